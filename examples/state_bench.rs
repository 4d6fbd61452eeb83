//! Benchmark of reading and writing a state file: the median time of
//! `StateStore::load` and `StateStore::save`, and the heap each needs
//! (allocations, peak bytes above what was live before, bytes still held).
//!
//! ```sh
//! cargo run --release --example state_bench -- path/to/stack.state.json [runs]
//! ```
//!
//! The file is copied to a temporary directory first; saves write there.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use sdbc::state::{State, StateStore};

/// The system allocator, counting calls and live bytes.
struct Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        if new >= layout.size() {
            let live = LIVE.fetch_add(new - layout.size(), Relaxed) + new - layout.size();
            PEAK.fetch_max(live, Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new, Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap use of one call of `f`: (calls, peak above the start, still held).
fn heap<T>(f: impl FnOnce() -> T) -> (T, usize, usize, usize) {
    let (calls, live) = (CALLS.load(Relaxed), LIVE.load(Relaxed));
    PEAK.store(live, Relaxed);
    let out = f();
    let held = LIVE.load(Relaxed).saturating_sub(live);
    let peak = PEAK.load(Relaxed) - live;
    (out, CALLS.load(Relaxed) - calls, peak, held)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let source = args
        .next()
        .expect("usage: state_bench FILE.state.json [runs]");
    let runs: usize = args
        .next()
        .map_or(15, |r| r.parse().expect("runs: a number"));
    let text = std::fs::read_to_string(&source).expect("read the state file");
    let stack = State::from_json(&text).expect("a valid state").stack;
    drop(text);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.state.json");
    std::fs::copy(&source, &path).expect("copy the state file");
    let store = StateStore::new(&path, stack);
    let size = std::fs::metadata(Path::new(&path)).expect("stat").len();

    let (state, calls, peak, held) = heap(|| store.load().expect("load"));
    println!(
        "{} resources, {size} bytes; load: {calls} allocations, peak {} KB, held {} KB",
        state.resources.len(),
        peak / 1024,
        held / 1024
    );
    let mut state = state;
    let serial = state.serial;
    let (_, calls, peak, _) = heap(|| store.save(&mut state).expect("save"));
    println!("save: {calls} allocations, peak {} KB", peak / 1024);
    // What a load and a save give back is the file, its serial bumped.
    let before = std::fs::read_to_string(&source).expect("read the state file");
    let after = std::fs::read_to_string(&path).expect("read the saved file");
    let bump = |t: &str, s: u64| t.replacen(&format!("\"serial\": {s},"), "\"serial\": _,", 1);
    assert_eq!(
        bump(&before, serial),
        bump(&after, serial + 1),
        "save changed the bytes"
    );
    drop(state);

    let loads = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let s = store.load().expect("load");
            let d = t.elapsed();
            drop(s);
            d
        })
        .collect();
    let mut state = store.load().expect("load");
    let texts = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let text = state.to_json();
            let d = t.elapsed();
            drop(text);
            d
        })
        .collect();
    let saves = (0..runs)
        .map(|_| {
            let t = Instant::now();
            store.save(&mut state).expect("save");
            t.elapsed()
        })
        .collect();
    println!(
        "median of {runs}: load {:.2} ms, to_json {:.2} ms, save {:.2} ms",
        median(loads).as_secs_f64() * 1e3,
        median(texts).as_secs_f64() * 1e3,
        median(saves).as_secs_f64() * 1e3
    );
}
