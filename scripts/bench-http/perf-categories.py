#!/usr/bin/env python3
"""Where a request's CPU goes, from `perf script` output of the serving process (on-CPU samples only).

Each sample is charged to the component of its leaf-most frame that names one (the first match walking from the leaf to
the root), so a sample inside System.Text.Json called from our endpoint counts as JSON writing, and one in the kernel's
sendmsg under Kestrel as sockets. Usage: perf script -i perf.data | perf-categories.py - CPU_US_PER_REQUEST
"""
import collections
import re
import sys

# Order matters only between patterns that can match the same frame; the leaf-most matching frame decides.
COMPONENTS = [
    ("GC and allocation", r"WKS::|SVR::|gc_heap|GCHeap|JIT_New|RhpNew|Allocat"),
    ("JIT (tiered compilation)", r"libclrjit|ThePreStub|TieredCompilation"),
    ("JSON writing", r"System\.Text\.Json"),
    ("FusionCache", r"ZiggyCreatures"),
    ("cache read and cache_info", r"ContentPlanning\.Caching|CacheInfo|CoherenceGate|UserDataCache|CachedJson"),
    ("validation", r"FluentValidation|ValidationBehavior|StorableInput"),
    ("ownership", r"OwnershipBehavior|CurrentUser"),
    ("broken-connection retry", r"BrokenConnection"),
    ("tracing behaviour", r"TracingBehavior"),
    ("MediatR", r"MediatR"),
    ("dependency injection", r"Microsoft\.Extensions\.DependencyInjection"),
    ("endpoint and result", r"GetActiveStrategy|GetComprehensiveUserData|JsonResult|lambda_method|RequestDelegateFactory|HttpResults|Http\.Results"),
    ("OpenTelemetry, activities, metrics", r"OpenTelemetry|System\.Diagnostics\.(Activity|Metrics|DiagnosticListener|DiagnosticSource)|HostingApplicationDiagnostics|Meter"),
    ("logging", r"Microsoft\.Extensions\.Logging|HostingLogScope"),
    ("rate limiting", r"RateLimit"),
    ("authentication, authorization, antiforgery", r"Authentication|Authorization|Antiforgery|JwtBearer|IdentityModel|ValidatedToken"),
    ("CORS", r"Cors"),
    ("Server-Timing, body limit", r"UseServerTiming|UseRequestBodyLimit|ServerTiming"),
    ("forwarded headers", r"Forwarded"),
    ("routing", r"Routing|EndpointMiddleware"),
    ("exception handler, status code pages", r"ExceptionHandler|StatusCodePages"),
    ("host filtering", r"HostFiltering"),
    ("Kestrel HTTP/1.1", r"Kestrel|Http1|HttpProtocol|System\.IO\.Pipelines|HttpRequestHeaders|HttpResponseHeaders"),
    ("sockets and kernel", r"\[kernel|System\.Net\.Sockets|libSystem\.Native|__send|__recv|epoll|syscall"),
    ("thread pool and async machinery", r"ThreadPool|AsyncMethodBuilder|AsyncTaskMethodBuilder|ExecutionContext|System\.Threading"),
    ("runtime (unnamed native frames)", r"libcoreclr|libc\.so|ld-linux|CastHelpers|VirtualDispatch|Stub"),
]
COMPONENTS = [(name, re.compile(pattern)) for name, pattern in COMPONENTS]


def samples(lines):
    stack = []
    for line in lines:
        if not line.strip():
            if stack:
                yield stack
                stack = []
        elif line[0] in " \t":
            stack.append(line.strip())
    if stack:
        yield stack


def component(stack):
    for frame in stack:
        for name, pattern in COMPONENTS:
            if pattern.search(frame):
                return name
    return "other"


source = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1], errors="replace")
us_per_request = float(sys.argv[2]) if len(sys.argv) > 2 else None
counts = collections.Counter(component(s) for s in samples(source))
total = sum(counts.values()) or 1
print(f"| component (leaf-most named frame) | share of on-CPU samples |{' µs per request |' if us_per_request else ''}")
print(f"|---|---:|{'---:|' if us_per_request else ''}")
for name, count in counts.most_common():
    share = count / total
    print(f"| {name} | {share * 100:.1f} % |" + (f" {share * us_per_request:.1f} |" if us_per_request else ""))
print(f"({total} samples)")
