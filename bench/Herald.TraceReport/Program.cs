// Reads a .nettrace written by dotnet-trace and prints where a process's garbage came from and what its collections
// cost: bench/trace-allocations.sh records one of the load generator and runs this on it.
//
//   allocations TRACE [--type NAME] [--frames N]   the runtime's allocation samples (one per about 100 KB) by type, then
//                                                  the stacks that allocated the type asked for (default System.String)
//   gc TRACE                                       every collection: its generation, pause and what it promoted
using System.CommandLine;
using Herald.TraceReport;

var trace = new Argument<FileInfo>("trace") { Description = "A .nettrace file (dotnet-trace collect --profile gc-verbose for allocations, gc-collect or more for gc)." };
trace.AcceptExistingOnly();
var type = new Option<string>("--type") { Description = "The type whose allocating stacks are listed.", DefaultValueFactory = _ => "System.String" };
var frames = new Option<int>("--frames") { Description = "Frames of each stack to show, innermost first.", DefaultValueFactory = _ => 6 };
var top = new Option<int>("--top") { Description = "Rows of each table.", DefaultValueFactory = _ => 25 };

var allocations = new Command("allocations", "Allocation samples by type, and the stacks that allocated one type.") { trace, type, frames, top };
allocations.SetAction(result => AllocationReport.Print(result.GetValue(trace)!.FullName, result.GetValue(type)!, result.GetValue(frames), result.GetValue(top), Console.Out));
var gc = new Command("gc", "Each generation's collections: count, pauses, promoted bytes.") { trace };
gc.SetAction(result => CollectionReport.Print(result.GetValue(trace)!.FullName, Console.Out));

var root = new RootCommand("Reports on a .nettrace of a Herald load run.") { allocations, gc };
return root.Parse(args).Invoke();
