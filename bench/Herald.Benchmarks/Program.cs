using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Herald.Benchmarks.SignatureBenchmarks).Assembly).Run(args);
