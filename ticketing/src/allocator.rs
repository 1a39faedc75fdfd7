//! The process's memory allocator: jemalloc, set here in the library so that every binary built
//! on it (`ticketing`, and the tests' `ticketing-under-test`) runs with the same one.

/// jemalloc rather than glibc's malloc, for speed and for memory (docs/performance.md).
///
/// - Speed: under the read benchmark glibc's `malloc`/`free` took 16 % of the server's time
///   (`_int_malloc` walking its bins, `malloc_consolidate`).
/// - Memory: jemalloc's background thread gives freed pages back to the system by itself, the
///   19 MiB of each Argon2id password hash included. glibc needed a fixed mmap threshold, two
///   arenas and a thread of ours calling `malloc_trim` every 3 s to get back under 100 MiB after
///   a burst of sign-ins. mimalloc was as fast, but held 109 MiB five seconds after one.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts: purge from a background thread; two arenas, as the
/// machines this runs on have few cores and each arena keeps memory of its own; freed pages
/// returned to the system within about a quarter of a second (`dirty_decay_ms`; with 1 s, a test
/// saw 97 MiB resident half a second after 100 sign-ins, 58 MiB with this), at once when only
/// "muzzy" (`muzzy_decay_ms`). The environment variable `_RJEM_MALLOC_CONF` (not `MALLOC_CONF`:
/// this jemalloc's names are prefixed) overrides them, e.g. `stats_print:true` shows them at exit.
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static malloc_conf: &[u8] =
    b"background_thread:true,narenas:2,dirty_decay_ms:250,muzzy_decay_ms:0\0";
