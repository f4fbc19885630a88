#!/usr/bin/env python3
"""Where a .NET process's CPU goes, from `perf script` output (recorded with -g and DOTNET_PerfMapEnabled=1).

    perf script -i perf.data | bench/perf-breakdown.py [library|stage]

library: each sample counted under the innermost library or kernel call in its stack (SQLite, the HTTP client,
Kestrel, HMAC, the runtime, sends, fsync...): what kind of work the CPU did.
stage: each sample counted under the Herald stage or runtime activity anywhere in its stack (publish endpoint,
delivery attempt, leasing, the store's writer, idle thread-pool workers spinning, the JIT...): on whose behalf.
"""
import collections
import re
import sys

LIBRARY = [
    ('kernel: send', r'__x64_sys_sendto|__sys_sendto'),
    ('kernel: recv', r'__x64_sys_recvfrom'),
    ('kernel: fsync', r'__x64_sys_fsync'),
    ('kernel: pwrite', r'__x64_sys_pwrite'),
    ('kernel: epoll', r'__x64_sys_epoll'),
    ('kernel: sched_yield', r'__x64_sys_sched_yield'),
    ('kernel: futex', r'__x64_sys_futex'),
    ('kernel: other syscalls', r'__x64_sys_'),
    ('kernel: context switches, interrupts', r'asm_|ret_from_fork|finish_task_switch'),
    ('SQLite', r'libe_sqlite3|Microsoft\.Data\.Sqlite|SQLitePCL'),
    ('HMAC', r'libcrypto|HMAC|Cryptography'),
    ('JSON', r'System\.Text\.Json'),
    ('telemetry', r'OpenTelemetry|System\.Diagnostics\.Metrics|DiagnosticSource|Activity'),
    ('Polly', r'Polly'),
    ('logging', r'Microsoft\.Extensions\.Logging'),
    ('dependency injection', r'DependencyInjection'),
    ('HTTP client', r'System\.Net\.Http'),
    ('Kestrel', r'Kestrel'),
    ('routing', r'Microsoft\.AspNetCore\.Routing'),
    ('authentication, authorization', r'Microsoft\.AspNetCore\.Authentication|Microsoft\.AspNetCore\.Authorization|Claims'),
    ('other ASP.NET Core', r'Microsoft\.AspNetCore'),
    ('sockets', r'System\.Net\.Sockets'),
    ('thread pool', r'ThreadPool|LowLevel'),
    ('JIT', r'libclrjit'),
    ('Herald', r'Herald\.'),
    ('runtime', r'libcoreclr'),
    ('libc', r'libc\.so'),
]

STAGE = [
    ('publish endpoint', r'PublishEndpoints|PublishService'),
    ('store append', r'SqliteEventStore::Append\b|SqliteEventStore\+<AppendAsync>'),
    ('store writer', r'GroupCommitWriter'),
    ('delivery attempt', r'DeliveryClient|AttemptAsync'),
    ('settlement', r'SettleLoop|SettleAsync|Settlement'),
    ('SDK', r'Herald\.Sdk'),
    ('leasing', r'SqliteDeliveryQueue|NatsDeliveryQueue|WakeSignal|SubscriptionWorker|Broker\.Dispatching\.Dispatcher'),
    ('load generator', r'Herald\.LoadGen'),
    ('authentication, authorization', r'Authentication|Authorization|BrokerAuth|TenantRoutes'),
    ('Kestrel', r'Kestrel'),
    ('HTTP client', r'System\.Net\.Http'),
    ('idle thread-pool workers', r'LowLevelLifoSemaphore|LowLevelSpinWaiter|WaitForSocketEvents|epoll_wait'),
    ('JIT', r'libclrjit|TieredCompilation|CallCountingManager'),
    ('SQLite', r'libe_sqlite3'),
    ('fsync', r'fsync'),
]


def samples(lines):
    frames = []
    for line in lines:
        if line.strip() and line.startswith((' ', '\t')):
            frames.append(line.strip())
        elif frames:
            yield frames
            frames = []
    if frames:
        yield frames


def by_library(frames):
    for frame in frames:  # leaf first
        for name, pattern in LIBRARY:
            if re.search(pattern, frame):
                return name
    return 'other'


def by_stage(frames):
    order = [name for name, _ in STAGE]
    hits = [name for frame in frames for name, pattern in STAGE if re.search(pattern, frame)]
    if hits:
        return min(hits, key=order.index)
    for frame in frames:
        call = re.search(r'__x64_sys_(\w+)', frame)
        if call:
            return 'kernel: ' + call.group(1)
    return 'other'


def main():
    view = sys.argv[1] if len(sys.argv) > 1 else 'library'
    classify = {'library': by_library, 'stage': by_stage}.get(view)
    if classify is None:
        sys.exit(f"unknown view '{view}': use library or stage")
    counts = collections.Counter(classify(frames) for frames in samples(sys.stdin))
    total = sum(counts.values()) or 1
    for name, count in counts.most_common(30):
        print(f'{100 * count / total:5.1f}%  {name}')
    print(f'{total} samples')


if __name__ == '__main__':
    main()
