#!/usr/bin/env python3
"""Where a request's CPU goes, from a dotnet-trace sampled-thread-time trace converted to speedscope:
   profile.py TRACE.speedscope.json CPU_US_PER_REQUEST [TOP]
The trace samples every thread about 100 times a second whether it runs or waits; the converter marks each sample's leaf
CPU_TIME (running managed code) or UNMANAGED_CODE_TIME (in native code: a wait, or a system call such as a socket send).
Native time whose innermost managed frame is a wait (a blocked thread-pool worker, a timer, a socket poll) is dropped;
the rest (the threads' busy time) is spread over the process's measured CPU per request. Prints the top frames by inclusive share, in µs per request."""
import collections, json, re, sys

BLOCKED = re.compile(r"Wait|Sleep|Interop\+Sys\.(Read|WaitForSocketEvents|Poll|Select)|Monitor\.Enter_Slowpath|SemaphoreSlim|"
                     r"ReceiveFrom|NetworkStream\.Read|Thread\.StartCallback|EventLoop")
data = json.load(open(sys.argv[1]))
cpu_us = float(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 45
frames = [f["name"] for f in data["shared"]["frames"]]

def short(name):
    name = re.sub(r"\(.*", "", name)          # drop parameter lists
    return name.split("!")[-1][:110]

inclusive, exclusive, busy = collections.Counter(), collections.Counter(), 0.0
for profile in data["profiles"]:
    stack, last = [], None
    for event in profile["events"]:
        at = event["at"]
        if stack and last is not None and at > last:
            leaf = frames[stack[-1]]
            caller = frames[stack[-2]] if len(stack) > 1 else ""
            if leaf == "CPU_TIME" or (leaf == "UNMANAGED_CODE_TIME" and not BLOCKED.search(caller)):
                span = at - last
                busy += span
                exclusive[short(leaf)] += span
                for name in {short(frames[f]) for f in stack}:
                    inclusive[name] += span
        last = at
        if event["type"] == "O":
            stack.append(event["frame"])
        elif stack:
            stack.pop()

print(f"busy samples: {busy:.0f} ms of thread time; shares below are of that, in µs at {cpu_us} µs CPU per request")
print("| inclusive µs/req | share | exclusive µs/req | frame |")
print("|---:|---:|---:|---|")
for name, t in inclusive.most_common(top):
    print(f"| {t / busy * cpu_us:.1f} | {t / busy * 100:.1f} % | {exclusive[name] / busy * cpu_us:.1f} | {name} |")
print()
print("top exclusive:")
for name, t in exclusive.most_common(25):
    print(f"  {t / busy * cpu_us:6.1f} µs  {t / busy * 100:5.1f} %  {name}")

# Callers of the frames named by PROFILE_CALLERS (comma-separated substrings): who pays for a lock, a GC poll, ...
import os
for wanted in filter(None, os.environ.get("PROFILE_CALLERS", "Monitor.Enter_Slowpath,PollGC").split(",")):
    callers = collections.Counter()
    for profile in data["profiles"]:
        stack, last = [], None
        for event in profile["events"]:
            at = event["at"]
            if stack and last is not None and at > last:
                names = [short(frames[f]) for f in stack]
                hit = next((i for i, n in enumerate(names) if wanted in n), None)
                if hit is not None and hit > 0:
                    path = " <- ".join(n.split(".")[-1][:50] for n in reversed(names[max(0, hit - 4):hit]))
                    callers[path] += at - last
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            elif stack:
                stack.pop()
    print(f"\ncallers of {wanted}:")
    for path, t in callers.most_common(8):
        print(f"  {t / busy * cpu_us:6.1f} µs  {path}")
