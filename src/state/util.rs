//! Small helpers shared by the state files: random ids, hex, timestamps,
//! host and process facts, and the atomic file write.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::marker::PhantomData;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| io::Error::other("the system random number generator failed"))
}

/// A random UUID (version 4) used as a state lineage.
pub(crate) fn new_lineage() -> String {
    let mut b = [0u8; 16];
    if random_bytes(&mut b).is_err() {
        // Not security relevant: a lineage only has to be unique.
        b = fastrand::u128(..).to_be_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_string(&b)
}

/// Formats 16 bytes as `8-4-4-4-12` lowercase hex.
pub(crate) fn uuid_string(b: &[u8; 16]) -> String {
    let h = hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

/// Current UTC time as RFC 3339 (`2025-01-31T12:00:00Z`).
pub(crate) fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC.
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// This machine's host name (Linux), or `"unknown"`.
pub(crate) fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Whether process `pid` runs on this host. Without `/proc` we cannot
/// tell, and answer `true` so that a lock is never taken over by mistake.
pub(crate) fn process_is_running(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// `path` with `suffix` appended to its file name (`a.json` -> `a.json.tmp`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Reads a JSON object into a `BTreeMap` built in one pass from its entries
/// sorted by key (the order the state file keeps them in): full tree nodes
/// and no search per entry, where reading entry by entry leaves nodes half
/// full. A key given twice keeps its last value, as reading entry by entry
/// does.
pub(crate) fn packed_map<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Entries<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            // Sorts stably (linear on sorted entries) and keeps the last
            // of equal keys.
            Ok(BTreeMap::from_iter(entries))
        }
    }

    d.deserialize_map(Entries(PhantomData))
}

/// The buffer between a writer and the temporary file in
/// [`atomic_write_with`]: large enough that a state file of megabytes is
/// written in few system calls.
const WRITE_BUFFER: usize = 64 * 1024;

/// Points in [`atomic_write`] where tests can inject a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteStep {
    /// The temporary file is written and synced; nothing else changed yet.
    TmpSynced,
}

/// Options for [`atomic_write`].
pub(crate) struct AtomicWrite<'a> {
    /// Keep the previous file as `<path>.backup`.
    pub backup: bool,
    /// Unix permission bits for a newly created file.
    pub mode: u32,
    /// Called at each step; an error aborts the write there.
    pub hook: &'a dyn Fn(WriteStep) -> io::Result<()>,
}

/// Replaces `path` with `bytes` so that a reader sees either the old or the
/// new content, never a mix (see [`atomic_write_with`]).
pub(crate) fn atomic_write(path: &Path, bytes: &[u8], opts: &AtomicWrite<'_>) -> io::Result<()> {
    atomic_write_with(path, opts, |w| w.write_all(bytes))
}

/// Replaces `path` with what `write` writes, so that a reader sees either
/// the old or the new content, never a mix: write `<path>.tmp` (buffered,
/// so the content need not be built in memory first), fsync it, keep the
/// old file as `<path>.backup` (hard link, so `path` never disappears),
/// rename the temporary over `path`, fsync the directory.
pub(crate) fn atomic_write_with(
    path: &Path,
    opts: &AtomicWrite<'_>,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let tmp = with_suffix(path, ".tmp");
    {
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(opts.mode)
            .open(&tmp)?;
        let mut w = BufWriter::with_capacity(WRITE_BUFFER, f);
        write(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
    }
    (opts.hook)(WriteStep::TmpSynced)?;
    if opts.backup && path.exists() {
        let backup = with_suffix(path, ".backup");
        match fs::remove_file(&backup) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if fs::hard_link(path, &backup).is_err() {
            fs::copy(path, &backup)?;
        }
    }
    fs::rename(&tmp, path)?;
    File::open(&dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
    }

    #[test]
    fn uuid_and_hex_format() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        let id = new_lineage();
        let parts: Vec<_> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "4");
    }

    #[test]
    fn packed_map_reads_like_a_btree_map() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct M(#[serde(deserialize_with = "packed_map")] BTreeMap<String, u32>);
        let read = |t: &str| {
            serde_json::from_str::<M>(t)
                .map(|m| m.0)
                .map_err(|e| e.to_string())
        };
        let plain =
            |t: &str| serde_json::from_str::<BTreeMap<String, u32>>(t).map_err(|e| e.to_string());
        for text in [
            r#"{"b": 2, "a": 1, "c": 3}"#,
            r#"{"a": 1, "b": 2, "a": 9}"#,
            r#"{}"#,
            r#"[1]"#,
            r#"{"a": "x"}"#,
        ] {
            assert_eq!(read(text), plain(text), "{text}");
        }
        let many: BTreeMap<String, u32> = (0..1000).map(|i| (format!("k{i:04}"), i)).collect();
        let text = serde_json::to_string(&many).expect("json");
        assert_eq!(read(&text), Ok(many));
    }

    #[test]
    fn own_process_is_running() {
        assert!(process_is_running(std::process::id()));
        assert!(!process_is_running(u32::MAX - 7));
    }
}
