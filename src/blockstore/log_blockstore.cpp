// LogBlockstore: append-only segments + in-memory index. Format: docs/formats/blockstore.md.
#include "blockstore/log_blockstore.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "blockstore/internal/crc32c.hpp"
#include "blockstore/internal/keys.hpp"
#include "common/env.hpp"
#include "common/log.hpp"
#include "multiformats/multicodec.hpp"

namespace cairn::blockstore {

namespace fs = std::filesystem;
using internal::Crc32c;
using internal::IsIdentity;
using internal::KeyOf;

namespace {

// --- format constants (docs/formats/blockstore.md) ---
constexpr char kSegmentMagic[8] = {'C', 'A', 'I', 'R', 'N', 'S', 'E', 'G'};
constexpr char kIndexMagic[8] = {'C', 'A', 'I', 'R', 'N', 'I', 'D', 'X'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kSegmentHeaderSize = 16;
constexpr uint32_t kRecordMagic = 0x4B4C4243;  // "CBLK" as little-endian bytes
constexpr size_t kRecordHeaderSize = 20;
constexpr size_t kIndexHeaderSize = 32;
constexpr size_t kIndexEntryFixed = 14;  // offset u64, length u32, type u8, mh length u8
constexpr uint8_t kTypePut = 1;
constexpr uint8_t kTypeTombstone = 2;

// An Env error as the block store reports it ("blockstore: write /repo/blocks/…: No space …").
template <typename T>
Result<T> Ctx(Result<T> r) {
  if (!r) return Err(r.error().WithContext("blockstore: "));
  return r;
}

std::string SegmentName(uint32_t id, const char* ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%010u.%s", id, ext);
  return buf;
}

// Parses "0000000042.seg" → 42.
std::optional<uint32_t> ParseSegmentName(const std::string& name, const std::string& ext) {
  if (name.size() != 11 + ext.size() || name.compare(10, 1 + ext.size(), "." + ext) != 0) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  if (v == 0 || v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// Reads up to out.size() bytes at `off`; returns how many were read (fewer only at end of file).
Result<size_t> ReadAt(File& file, uint64_t off, uint8_t* p, size_t n) {
  return Ctx(file.ReadAt(off, MutableByteSpan(p, n)));
}

// One record as listed in an index file or found by a log scan.
struct Entry {
  uint8_t type;
  std::string key;  // encoded multihash
  uint64_t offset;  // of the record header in the segment
  uint32_t length;  // data bytes (0 for tombstones)
  uint64_t RecordSize() const { return kRecordHeaderSize + key.size() + length; }
  uint64_t DataOffset() const { return offset + kRecordHeaderSize + key.size(); }
};

// Fills the 20-byte record header for `key` and `length`.
void EncodeRecordHeader(uint8_t* h, uint8_t type, const std::string& key, uint32_t length,
                        uint32_t data_crc) {
  PutU32Le(h, kRecordMagic);
  h[4] = type;
  h[5] = static_cast<uint8_t>(key.size());
  h[6] = 0;
  h[7] = 0;
  PutU32Le(h + 8, length);
  PutU32Le(h + 12, data_crc);
  uint32_t crc = Crc32c(0, ByteSpan(h, 16));
  crc = Crc32c(crc, AsBytes(key));
  PutU32Le(h + 16, crc);
}

struct Segment {
  uint32_t id = 0;
  std::unique_ptr<File> file;
  fs::path path;
  fs::path idx_path;
  uint64_t size = 0;         // valid bytes (file length once recovered). GUARDED_BY(Impl::mu_)
  uint64_t live_bytes = 0;   // bytes of records the index points at. GUARDED_BY(Impl::mu_)
  uint64_t synced_size = 0;  // `size` when the last successful Sync() started. GUARDED_BY(write_mu)
  bool sealed = false;       // has a valid index file; never appended to again
  bool damaged = false;      // a scan stopped at a bad record; no index file is written for it
};
// shared_ptr: a reader keeps a segment's file open while compaction removes the segment.
using SegmentPtr = std::shared_ptr<Segment>;

struct Location {
  uint32_t segment;
  uint32_t length;
  uint64_t offset;  // of the data
};

}  // namespace

struct LogBlockstore::Impl {
  fs::path dir;
  LogBlockstoreOptions options;
  Env* env = nullptr;
  std::unique_ptr<File> lock_file;
  RecoveryReport report;

  // Lock order: compact_mu → write_mu → mu.
  std::mutex compact_mu;           // one compaction at a time
  std::mutex write_mu;             // serialises appends, rollover and Sync's choice of segment
  std::atomic<uint64_t> syncs{0};  // fdatasync calls made by Sync()
  std::mutex mu;  // the index and the segment table; held briefly, never across I/O

  std::unordered_map<std::string, Location> index;  // GUARDED_BY(mu)
  std::map<uint32_t, SegmentPtr> segments;          // GUARDED_BY(mu)
  SegmentPtr active;                  // written holding write_mu and mu; read holding either
  std::vector<Entry> active_entries;  // GUARDED_BY(write_mu): records of `active`, in order
  bool broken = false;                // GUARDED_BY(write_mu): a write failed mid-record

  // --- files ---

  Result<SegmentPtr> CreateSegment(uint32_t id) {
    auto seg = std::make_shared<Segment>();
    seg->id = id;
    seg->path = dir / SegmentName(id, "seg");
    seg->idx_path = dir / SegmentName(id, "idx");
    seg->file = CAIRN_TRY(Ctx(env->Open(seg->path, OpenMode::kCreateNew)));
    uint8_t h[kSegmentHeaderSize];
    std::memcpy(h, kSegmentMagic, 8);
    PutU32Le(h + 8, kFormatVersion);
    PutU32Le(h + 12, id);
    auto written = seg->file->WriteAt(0, ByteSpan(h, sizeof h));
    if (written) written = seg->file->Sync();
    if (!written) {
      // A segment without its header is no segment: remove it so a retry can create it again.
      (void)env->Remove(seg->path);  // best effort; the write's error is the one to report
      return Err(Ctx(std::move(written)).error());
    }
    CAIRN_TRY(Ctx(env->SyncDir(dir)));
    seg->size = kSegmentHeaderSize;
    return seg;
  }

  Result<void> WriteIndexFile(const Segment& seg, const std::vector<Entry>& entries) {
    Bytes buf(kIndexHeaderSize);
    std::memcpy(buf.data(), kIndexMagic, 8);
    PutU32Le(buf.data() + 8, kFormatVersion);
    PutU32Le(buf.data() + 12, seg.id);
    PutU64Le(buf.data() + 16, seg.size);
    PutU64Le(buf.data() + 24, entries.size());
    for (const Entry& e : entries) {
      uint8_t f[kIndexEntryFixed];
      PutU64Le(f, e.offset);
      PutU32Le(f + 8, e.length);
      f[12] = e.type;
      f[13] = static_cast<uint8_t>(e.key.size());
      buf.insert(buf.end(), f, f + sizeof f);
      buf.insert(buf.end(), e.key.begin(), e.key.end());
    }
    uint8_t c[4];
    PutU32Le(c, Crc32c(0, buf));
    buf.insert(buf.end(), c, c + 4);
    return Ctx(WriteFileAtomically(*env, seg.idx_path, buf));
  }

  // The entries of a sealed segment's index file; an error says why the file is unusable.
  Result<std::vector<Entry>> ReadIndexFile(const Segment& seg, uint64_t segment_size) {
    std::string what = seg.idx_path.string();
    auto file = CAIRN_TRY(Ctx(env->Open(seg.idx_path, OpenMode::kRead)));
    const uint64_t size = CAIRN_TRY(Ctx(file->Size()));
    Bytes buf(size);
    const size_t got = CAIRN_TRY(ReadAt(*file, 0, buf.data(), buf.size()));
    if (got != buf.size() || buf.size() < kIndexHeaderSize + 4) {
      return Err(ErrorCode::kCorruption, "blockstore: " + what + ": truncated");
    }
    uint32_t stored = GetU32Le(buf.data() + buf.size() - 4);
    if (Crc32c(0, ByteSpan(buf.data(), buf.size() - 4)) != stored) {
      return Err(ErrorCode::kCorruption, "blockstore: " + what + ": checksum mismatch");
    }
    if (std::memcmp(buf.data(), kIndexMagic, 8) != 0 ||
        GetU32Le(buf.data() + 8) != kFormatVersion || GetU32Le(buf.data() + 12) != seg.id) {
      return Err(ErrorCode::kCorruption, "blockstore: " + what + ": bad header");
    }
    if (GetU64Le(buf.data() + 16) != segment_size) {
      return Err(ErrorCode::kCorruption,
                 "blockstore: " + what + ": covers " + std::to_string(GetU64Le(buf.data() + 16)) +
                     " bytes but the segment has " + std::to_string(segment_size));
    }
    uint64_t count = GetU64Le(buf.data() + 24);
    std::vector<Entry> entries;
    size_t pos = kIndexHeaderSize, end = buf.size() - 4;
    for (uint64_t i = 0; i < count; ++i) {
      if (end - pos < kIndexEntryFixed) {
        return Err(ErrorCode::kCorruption, "blockstore: " + what + ": entry past end");
      }
      Entry e;
      e.offset = GetU64Le(buf.data() + pos);
      e.length = GetU32Le(buf.data() + pos + 8);
      e.type = buf[pos + 12];
      size_t mh_len = buf[pos + 13];
      pos += kIndexEntryFixed;
      if (end - pos < mh_len || (e.type != kTypePut && e.type != kTypeTombstone) ||
          e.offset < kSegmentHeaderSize ||
          e.offset + kRecordHeaderSize + mh_len + e.length > segment_size) {
        return Err(ErrorCode::kCorruption,
                   "blockstore: " + what + ": bad entry " + std::to_string(i));
      }
      e.key.assign(reinterpret_cast<const char*>(buf.data() + pos), mh_len);
      pos += mh_len;
      entries.push_back(std::move(e));
    }
    if (pos != end) return Err(ErrorCode::kCorruption, "blockstore: " + what + ": trailing bytes");
    return entries;
  }

  struct ScanResult {
    std::vector<Entry> entries;
    uint64_t valid_end = kSegmentHeaderSize;  // end of the last valid record
    std::optional<std::string> problem;       // why the scan stopped before end of file
  };

  // Reads the segment's records in order, checking each header and data checksum; stops at the
  // first invalid or incomplete record.
  Result<ScanResult> ScanSegment(const Segment& seg, uint64_t file_size) {
    ScanResult out;
    std::string what = seg.path.string();
    constexpr size_t kBuf = 1 << 20;
    Bytes buf(kBuf);
    uint64_t buf_start = 0;
    size_t buf_len = 0;
    // Copies `n` bytes at `off` into `dst` through the read-ahead buffer; false at end of file.
    auto read_at = [&](uint64_t off, uint8_t* dst, size_t n) -> Result<bool> {
      while (n > 0) {
        if (off < buf_start || off >= buf_start + buf_len) {
          buf_start = off;
          buf_len = CAIRN_TRY(ReadAt(*seg.file, off, buf.data(), kBuf));
          if (buf_len == 0) return false;
        }
        size_t take = std::min<uint64_t>(n, buf_start + buf_len - off);
        std::memcpy(dst, buf.data() + (off - buf_start), take);
        dst += take;
        off += take;
        n -= take;
      }
      return true;
    };
    uint64_t pos = kSegmentHeaderSize;
    Bytes chunk(1 << 16);
    auto stop = [&](const std::string& why) {
      out.problem = "blockstore: segment " + std::to_string(seg.id) + " offset " +
                    std::to_string(pos) + ": " + why;
    };
    while (pos < file_size) {
      uint8_t h[kRecordHeaderSize];
      if (file_size - pos < kRecordHeaderSize || !CAIRN_TRY(read_at(pos, h, sizeof h))) {
        stop("incomplete record header");
        break;
      }
      if (GetU32Le(h) != kRecordMagic) {
        stop("bad record magic");
        break;
      }
      uint8_t type = h[4];
      size_t mh_len = h[5];
      uint32_t length = GetU32Le(h + 8);
      uint32_t data_crc = GetU32Le(h + 12);
      if (mh_len < 2 || file_size - pos - kRecordHeaderSize < mh_len) {
        stop("incomplete multihash");
        break;
      }
      std::string key(mh_len, '\0');
      if (!CAIRN_TRY(
              read_at(pos + kRecordHeaderSize, reinterpret_cast<uint8_t*>(key.data()), mh_len))) {
        stop("incomplete multihash");
        break;
      }
      uint32_t crc = Crc32c(Crc32c(0, ByteSpan(h, 16)), AsBytes(key));
      if (crc != GetU32Le(h + 16)) {
        stop("header checksum mismatch");
        break;
      }
      if ((type != kTypePut && type != kTypeTombstone) || h[6] != 0 || h[7] != 0 ||
          (type == kTypeTombstone && length != 0)) {
        stop("bad record type or flags");
        break;
      }
      uint64_t data_off = pos + kRecordHeaderSize + mh_len;
      if (file_size - data_off < length) {
        stop("incomplete data (" + std::to_string(length) + " bytes declared)");
        break;
      }
      uint32_t got = 0;
      bool complete = true;
      for (uint64_t done = 0; done < length;) {
        size_t n = std::min<uint64_t>(chunk.size(), length - done);
        if (!CAIRN_TRY(read_at(data_off + done, chunk.data(), n))) {
          complete = false;
          break;
        }
        got = Crc32c(got, ByteSpan(chunk.data(), n));
        done += n;
      }
      if (!complete) {
        stop("incomplete data");
        break;
      }
      if (got != data_crc) {
        stop("data checksum mismatch");
        break;
      }
      Entry e{type, std::move(key), pos, length};
      pos += e.RecordSize();
      out.entries.push_back(std::move(e));
    }
    out.valid_end = pos;
    return out;
  }

  // Applies a segment's records to the index in log order. Holds mu (Open is single-threaded,
  // but the annotations stay true).
  void Apply(uint32_t seg_id, const std::vector<Entry>& entries) {
    std::lock_guard lock(mu);
    for (const Entry& e : entries) {
      auto it = index.find(e.key);
      if (it != index.end()) {
        segments.at(it->second.segment)->live_bytes -=
            kRecordHeaderSize + e.key.size() + it->second.length;
      }
      if (e.type == kTypePut) {
        Location loc{seg_id, e.length, e.DataOffset()};
        if (it != index.end()) {
          it->second = loc;
        } else {
          index.emplace(e.key, loc);
        }
        segments.at(seg_id)->live_bytes += e.RecordSize();
      } else if (it != index.end()) {
        index.erase(it);
      }
    }
  }

  Result<void> Recover() {
    std::vector<uint32_t> ids;
    for (const std::string& name : CAIRN_TRY(Ctx(env->ListDir(dir)))) {
      if (auto id = ParseSegmentName(name, "seg")) {
        ids.push_back(*id);
      } else if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
        (void)env->Remove(dir / name);  // an index file whose rename never happened; harmless
      }
    }
    std::sort(ids.begin(), ids.end());
    for (size_t i = 0; i < ids.size(); ++i) {
      bool last = i + 1 == ids.size();
      auto seg = std::make_shared<Segment>();
      seg->id = ids[i];
      seg->path = dir / SegmentName(ids[i], "seg");
      seg->idx_path = dir / SegmentName(ids[i], "idx");
      std::string what = seg->path.string();
      seg->file = CAIRN_TRY(Ctx(env->Open(seg->path, OpenMode::kReadWrite)));
      uint64_t size = CAIRN_TRY(Ctx(seg->file->Size()));
      uint8_t h[kSegmentHeaderSize] = {};
      size_t got = CAIRN_TRY(ReadAt(*seg->file, 0, h, sizeof h));
      bool header_ok = got == sizeof h && std::memcmp(h, kSegmentMagic, 8) == 0 &&
                       GetU32Le(h + 8) == kFormatVersion && GetU32Le(h + 12) == ids[i];
      if (!header_ok) {
        if (last && size <= kSegmentHeaderSize) {
          // Torn while being created (the header is synced before any record): start it over.
          seg->file.reset();
          CAIRN_TRY(Ctx(env->Remove(seg->path)));
          report.problems.push_back("blockstore: segment " + std::to_string(ids[i]) +
                                    ": torn segment header, recreated");
          report.truncated_bytes += size;
          break;
        }
        return Err(ErrorCode::kCorruption,
                   "blockstore: " + what + ": not a Cairn segment (bad header)");
      }
      ++report.segments;
      seg->size = size;
      {
        std::lock_guard lock(mu);
        segments.emplace(seg->id, seg);
      }
      std::vector<Entry> entries;
      bool have_index = false;
      if (CAIRN_TRY(Ctx(env->Exists(seg->idx_path)))) {
        auto loaded = ReadIndexFile(*seg, size);
        if (loaded) {
          entries = std::move(*loaded);
          have_index = true;
          seg->sealed = true;
          ++report.segments_from_index;
        } else {
          report.problems.push_back(loaded.error().message() + "; rebuilding from the log");
        }
      }
      if (!have_index) {
        ScanResult scan = CAIRN_TRY(ScanSegment(*seg, size));
        report.records_scanned += scan.entries.size();
        entries = std::move(scan.entries);
        if (scan.problem) {
          report.problems.push_back(*scan.problem);
          if (last) {
            // The tail after the last valid record was never acknowledged by a Sync that
            // covered it, or is damaged: cut it so appends continue after valid records.
            CAIRN_TRY(Ctx(seg->file->Truncate(scan.valid_end)));
            CAIRN_TRY(Ctx(seg->file->Sync()));
            report.truncated_bytes += size - scan.valid_end;
            report.problems.back() += "; cut the tail: " + std::to_string(size - scan.valid_end) +
                                      " bytes after offset " + std::to_string(scan.valid_end);
            seg->size = scan.valid_end;
          } else {
            seg->damaged = true;  // kept for salvage; its valid prefix stays readable
          }
        } else if (!last) {
          // Sealed but its index file was lost (crash between sync and rename): write it now.
          if (WriteIndexFile(*seg, entries)) seg->sealed = true;
        }
      }
      Apply(seg->id, entries);
      if (last && !seg->sealed) {
        active = seg;
        active_entries = std::move(entries);
      }
    }
    if (!active) {
      uint32_t next = 1;
      {
        std::lock_guard lock(mu);
        if (!segments.empty()) next = segments.rbegin()->first + 1;
      }
      SegmentPtr seg = CAIRN_TRY(CreateSegment(next));
      std::lock_guard lock(mu);
      segments.emplace(seg->id, seg);
      active = seg;
    }
    return Ok();
  }

  // --- appends (caller holds write_mu) ---

  // Seals the active segment and starts the next one.
  Result<void> Roll() {
    CAIRN_TRY(Ctx(active->file->Sync()));
    CAIRN_TRY(WriteIndexFile(*active, active_entries));
    SegmentPtr next = CAIRN_TRY(CreateSegment(active->id + 1));
    std::lock_guard lock(mu);
    active->sealed = true;
    segments.emplace(next->id, next);
    active = next;
    active_entries.clear();
    return Ok();
  }

  // Appends one record; returns where its data landed. The caller updates the index. When the
  // disk is full and the append frees space in the end (`frees_space`: a tombstone, a compaction
  // copy), the ballast file is given up once and the append tried again, so that deletes and
  // compaction can still run on a full disk. New blocks never use the ballast.
  Result<Location> Append(uint8_t type, const std::string& key, ByteSpan data, uint32_t data_crc,
                          bool frees_space = false) {
    auto appended = AppendOnce(type, key, data, data_crc);
    if (!appended && frees_space && appended.error().code() == ErrorCode::kStorageFull &&
        ReleaseBallast()) {
      appended = AppendOnce(type, key, data, data_crc);
    }
    return appended;
  }

  fs::path BallastPath() const { return dir / "BALLAST"; }

  // Removes the ballast file; true when there was one to remove.
  bool ReleaseBallast() {
    if (!env->Remove(BallastPath())) return false;
    log::Warn("blockstore.ballast_released",
              {{"dir", dir.string()},
               {"bytes", options.ballast_bytes},
               {"reason", "disk full: space set aside so deletes and compaction can free more"}});
    return true;
  }

  // Creates the ballast file (options.ballast_bytes, allocated) when it is missing. Best effort:
  // on a full disk it stays missing until a compaction has freed space.
  void EnsureBallast() {
    if (options.ballast_bytes == 0) return;
    auto exists = env->Exists(BallastPath());
    if (!exists || *exists) return;
    const fs::path tmp = dir / "BALLAST.tmp";
    auto made = [&]() -> Result<void> {
      auto file = CAIRN_TRY(env->Open(tmp, OpenMode::kCreateTruncate));
      CAIRN_TRY(file->Allocate(options.ballast_bytes));
      CAIRN_TRY(file->Sync());
      return env->Rename(tmp, BallastPath());
    }();
    if (!made) (void)env->Remove(tmp);  // best effort, retried by the next Compact
  }

  Result<Location> AppendOnce(uint8_t type, const std::string& key, ByteSpan data,
                              uint32_t data_crc) {
    if (broken) {
      return Err(ErrorCode::kIoError, "blockstore: an earlier write failed; reopen the store");
    }
    uint64_t record = kRecordHeaderSize + key.size() + data.size();
    if (active->size > kSegmentHeaderSize && active->size + record > options.segment_size) {
      CAIRN_TRY(Roll());
    }
    uint8_t head[kRecordHeaderSize + 256];
    // Keys are encoded multihashes: at most kMaxDigestSize plus two varints, well under 256.
    CAIRN_CHECK(key.size() < 256);
    EncodeRecordHeader(head, type, key, static_cast<uint32_t>(data.size()), data_crc);
    // A key is binary (a multihash), not a string: nothing to terminate.
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
    std::memcpy(head + kRecordHeaderSize, key.data(), key.size());
    const uint64_t off = active->size;
    const ByteSpan parts[2] = {ByteSpan(head, kRecordHeaderSize + key.size()), data};
    auto written =
        active->file->WriteAt(off, std::span<const ByteSpan>(parts, data.empty() ? 1 : 2));
    if (!written) {
      // Cut the partial record; if even that fails, refuse appends until reopened.
      if (!active->file->Truncate(off)) broken = true;
      return Err(Ctx(std::move(written)).error());
    }
    Entry e{type, key, off, static_cast<uint32_t>(data.size())};
    Location loc{active->id, e.length, e.DataOffset()};
    active_entries.push_back(std::move(e));
    std::lock_guard lock(mu);
    active->size = off + record;
    return loc;
  }

  // Points the index at a newly appended put record (caller holds mu).
  void IndexPut(const std::string& key, const Location& loc) {
    uint64_t rec = kRecordHeaderSize + key.size() + loc.length;
    auto [it, inserted] = index.try_emplace(key, loc);
    if (!inserted) {
      segments.at(it->second.segment)->live_bytes -= rec;
      it->second = loc;
    }
    segments.at(loc.segment)->live_bytes += rec;
  }

  void IndexErase(const std::string& key) {
    auto it = index.find(key);
    if (it == index.end()) return;
    segments.at(it->second.segment)->live_bytes -=
        kRecordHeaderSize + key.size() + it->second.length;
    index.erase(it);
  }

  Result<void> SyncActive() {
    SegmentPtr seg;
    uint64_t size = 0;
    {
      std::lock_guard lock(write_mu);
      if (broken)
        return Err(ErrorCode::kIoError, "blockstore: an earlier write failed; reopen the store");
      seg = active;
      size = seg->size;
      // Nothing appended since a sync that succeeded: every byte is durable already (a pin
      // worker syncs after every pin, most of which write no block).
      if (seg->synced_size >= size) return Ok();
    }
    // Segments sealed before this point were synced by Roll; writes after it need a later Sync.
    CAIRN_TRY(Ctx(seg->file->Sync()));
    syncs.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(write_mu);
    seg->synced_size = std::max(seg->synced_size, size);
    return Ok();
  }

  // A sealed segment's records: from its index file, else by scanning the log (a record that
  // does not check out is Corruption: compaction never drops what it cannot read).
  Result<std::vector<Entry>> SealedEntries(const Segment& seg);
  Result<void> CompactSegment(const SegmentPtr& seg, CompactionStats& stats);
};

LogBlockstore::LogBlockstore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LogBlockstore::~LogBlockstore() {
  if (impl_) (void)impl_->SyncActive();
}

Result<std::unique_ptr<LogBlockstore>> LogBlockstore::Open(const fs::path& dir,
                                                           LogBlockstoreOptions options) {
  Env& env = options.env ? *options.env : Env::Default();
  if (!CAIRN_TRY(Ctx(env.IsDirectory(dir)))) {
    if (!options.create_if_missing) {
      return Err(ErrorCode::kNotFound, "blockstore: directory " + dir.string() + " does not exist");
    }
    CAIRN_TRY(Ctx(env.CreateDirs(dir)));
  }
  if (options.segment_size < 4096) options.segment_size = 4096;
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->env = &env;
  impl->lock_file = CAIRN_TRY(Ctx(env.Open(dir / "LOCK", OpenMode::kCreateOrOpen)));
  if (auto locked = impl->lock_file->LockExclusive(); !locked) {
    if (locked.error().code() == ErrorCode::kUnavailable) {
      return Err(ErrorCode::kUnavailable,
                 "blockstore: " + dir.string() + " is in use by another process");
    }
    return Err(Ctx(std::move(locked)).error());
  }
  CAIRN_TRY(impl->Recover());
  impl->EnsureBallast();
  return std::unique_ptr<LogBlockstore>(new LogBlockstore(std::move(impl)));
}

Result<void> LogBlockstore::Put(const Cid& cid, ByteSpan data) {
  CAIRN_TRY(internal::CheckPut(cid, data));
  if (IsIdentity(cid)) return Ok();
  if (data.size() > UINT32_MAX) {
    return Err(ErrorCode::kInvalidArgument,
               "blockstore: block " + cid.ToString() + " is 4 GiB or larger");
  }
  std::string key = KeyOf(cid);
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->index.count(key)) return Ok();
  }
  uint32_t crc = Crc32c(0, data);  // outside the locks: the expensive part of an append
  std::lock_guard wlock(impl_->write_mu);
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->index.count(key)) return Ok();  // a racing Put stored it
  }
  Location loc = CAIRN_TRY(impl_->Append(kTypePut, key, data, crc));
  std::lock_guard lock(impl_->mu);
  impl_->IndexPut(key, loc);
  return Ok();
}

Result<Bytes> LogBlockstore::Get(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) {
    auto d = cid.hash().digest();
    return Bytes(d.begin(), d.end());
  }
  Location loc;
  SegmentPtr seg;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->index.find(KeyOf(cid));
    if (it == impl_->index.end()) {
      return Err(ErrorCode::kNotFound, "blockstore: block " + cid.ToString() + " not found");
    }
    loc = it->second;
    seg = impl_->segments.at(loc.segment);
  }
  Bytes data(loc.length);
  size_t got = CAIRN_TRY(ReadAt(*seg->file, loc.offset, data.data(), data.size()));
  if (got != data.size()) {
    return Err(ErrorCode::kCorruption, "blockstore: block " + cid.ToString() + ": segment " +
                                           std::to_string(loc.segment) + " ends inside its data");
  }
  auto ok = cid.hash().Verify(data);
  if (!ok) return Err(ok.error().WithContext("blockstore: block " + cid.ToString() + ": "));
  return data;
}

Result<Bytes> LogBlockstore::GetIntact(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) return Get(cid);
  const std::string key = KeyOf(cid);
  Location loc;
  SegmentPtr seg;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->index.find(key);
    if (it == impl_->index.end()) {
      return Err(ErrorCode::kNotFound, "blockstore: block " + cid.ToString() + " not found");
    }
    loc = it->second;
    seg = impl_->segments.at(loc.segment);
  }
  const size_t head = kRecordHeaderSize + key.size();
  auto damaged = [&](const char* what) {
    return Err(ErrorCode::kCorruption, "blockstore: block " + cid.ToString() + ": segment " +
                                           std::to_string(loc.segment) + ": " + what);
  };
  if (loc.offset < head) return damaged("record starts before its segment");
  // The header and multihash, then the data straight into the block's buffer (two preads: no
  // copy of the block).
  uint8_t h[kRecordHeaderSize + 256];
  size_t got = CAIRN_TRY(ReadAt(*seg->file, loc.offset - head, h, head));
  if (got != head) return damaged("ends inside its record header");
  if (GetU32Le(h) != kRecordMagic || h[4] != kTypePut || h[5] != key.size() ||
      GetU32Le(h + 8) != loc.length) {
    return damaged("record header does not describe this block");
  }
  if (Crc32c(Crc32c(0, ByteSpan(h, 16)), ByteSpan(h + kRecordHeaderSize, key.size())) !=
          GetU32Le(h + 16) ||
      std::memcmp(h + kRecordHeaderSize, key.data(), key.size()) != 0) {
    return damaged("record header checksum or multihash mismatch");
  }
  Bytes data(loc.length);
  got = CAIRN_TRY(ReadAt(*seg->file, loc.offset, data.data(), data.size()));
  if (got != data.size()) return damaged("ends inside its data");
  if (Crc32c(0, data) != GetU32Le(h + 12)) return damaged("data checksum mismatch");
  return data;
}

Result<bool> LogBlockstore::Has(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) return true;
  std::lock_guard lock(impl_->mu);
  return impl_->index.count(KeyOf(cid)) > 0;
}

Result<uint64_t> LogBlockstore::Size(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) return static_cast<uint64_t>(cid.hash().digest().size());
  std::lock_guard lock(impl_->mu);
  auto it = impl_->index.find(KeyOf(cid));
  if (it == impl_->index.end()) {
    return Err(ErrorCode::kNotFound, "blockstore: block " + cid.ToString() + " not found");
  }
  return static_cast<uint64_t>(it->second.length);
}

Result<void> LogBlockstore::Delete(const Cid& cid) {
  if (cid.empty()) return Err(ErrorCode::kInvalidArgument, "blockstore: empty CID");
  if (IsIdentity(cid)) return Ok();
  std::string key = KeyOf(cid);
  std::lock_guard wlock(impl_->write_mu);
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->index.count(key)) return Ok();
  }
  CAIRN_TRY(impl_->Append(kTypeTombstone, key, {}, 0, /*frees_space=*/true));
  std::lock_guard lock(impl_->mu);
  impl_->IndexErase(key);
  return Ok();
}

Result<void> LogBlockstore::ForEach(const std::function<bool(const Cid&, uint64_t)>& fn) {
  std::vector<std::pair<std::string, uint64_t>> snapshot;
  {
    std::lock_guard lock(impl_->mu);
    snapshot.reserve(impl_->index.size());
    for (const auto& [key, loc] : impl_->index) snapshot.emplace_back(key, loc.length);
  }
  for (const auto& [key, size] : snapshot) {
    auto mh = multiformats::Multihash::Decode(AsBytes(key));
    if (!mh) {
      return Err(ErrorCode::kCorruption,
                 "blockstore: stored key " + HexEncode(AsBytes(key)) + " is not a multihash");
    }
    if (!fn(Cid::V1(multiformats::codec::kRaw, *mh), size)) break;
  }
  return Ok();
}

Result<void> LogBlockstore::Sync() { return impl_->SyncActive(); }

Result<std::vector<Entry>> LogBlockstore::Impl::SealedEntries(const Segment& seg) {
  if (auto loaded = ReadIndexFile(seg, seg.size)) return loaded;
  ScanResult scan = CAIRN_TRY(ScanSegment(seg, seg.size));
  if (scan.problem) return Err(ErrorCode::kCorruption, *scan.problem);
  return std::move(scan.entries);
}

Result<void> LogBlockstore::Impl::CompactSegment(const SegmentPtr& seg, CompactionStats& stats) {
  std::vector<Entry> entries = CAIRN_TRY(SealedEntries(*seg));
  bool oldest;
  {
    std::lock_guard lock(mu);
    oldest = segments.begin()->first == seg->id;
  }
  std::string what = seg->path.string();
  Bytes rec;
  uint64_t copied = 0;
  for (const Entry& e : entries) {
    if (e.type == kTypeTombstone) {
      // A tombstone must outlive every older put of its key. The oldest segment has none older.
      if (oldest) continue;
      std::lock_guard wlock(write_mu);
      {
        std::lock_guard lock(mu);
        if (index.count(e.key)) continue;  // re-added later: the newer put supersedes it
      }
      CAIRN_TRY(Append(kTypeTombstone, e.key, {}, 0, /*frees_space=*/true));
      copied += e.RecordSize();
      ++stats.tombstones_moved;
      continue;
    }
    auto still_here = [&] {
      auto it = index.find(e.key);
      return it != index.end() && it->second.segment == seg->id &&
             it->second.offset == e.DataOffset();
    };
    {
      std::lock_guard lock(mu);
      if (!still_here()) continue;
    }
    rec.resize(e.RecordSize());
    size_t got = CAIRN_TRY(ReadAt(*seg->file, e.offset, rec.data(), rec.size()));
    bool valid = got == rec.size() && GetU32Le(rec.data()) == kRecordMagic &&
                 Crc32c(0, ByteSpan(rec.data() + kRecordHeaderSize + e.key.size(), e.length)) ==
                     GetU32Le(rec.data() + 12);
    std::lock_guard wlock(write_mu);
    {
      std::lock_guard lock(mu);
      if (!still_here()) continue;
      if (!valid) {
        IndexErase(e.key);
        ++stats.corrupt_dropped;
        continue;
      }
    }
    // write_mu keeps the key from being deleted or replaced until the index points at the copy.
    Location loc =
        CAIRN_TRY(Append(kTypePut, e.key, ByteSpan(rec).subspan(kRecordHeaderSize + e.key.size()),
                         GetU32Le(rec.data() + 12), /*frees_space=*/true));
    {
      std::lock_guard lock(mu);
      IndexPut(e.key, loc);
    }
    copied += e.RecordSize();
    ++stats.blocks_moved;
  }
  CAIRN_TRY(SyncActive());  // the copies are durable before the original goes
  {
    std::lock_guard lock(mu);
    segments.erase(seg->id);
  }
  if (auto removed = env->Remove(seg->idx_path);
      !removed && removed.error().code() != ErrorCode::kNotFound) {
    return Ctx(std::move(removed));
  }
  CAIRN_TRY(Ctx(env->Remove(seg->path)));
  CAIRN_TRY(Ctx(env->SyncDir(dir)));
  ++stats.segments_compacted;
  stats.bytes_reclaimed += seg->size > copied ? seg->size - copied : 0;
  return Ok();
}

Result<CompactionStats> LogBlockstore::Compact(double max_live_ratio) {
  std::lock_guard clock(impl_->compact_mu);
  std::vector<SegmentPtr> candidates;
  {
    std::lock_guard wlock(impl_->write_mu);
    // The active segment is sealed (and so becomes a candidate) when rewriting it frees at least
    // seal_min_reclaim bytes: otherwise deleted data in a segment that never fills up would never
    // be reclaimed.
    uint64_t active_body, active_live;
    {
      std::lock_guard lock(impl_->mu);
      active_body = impl_->active->size - kSegmentHeaderSize;
      active_live = impl_->active->live_bytes;
    }
    if (active_body > active_live && active_body - active_live >= impl_->options.seal_min_reclaim &&
        static_cast<double>(active_live) < max_live_ratio * static_cast<double>(active_body) &&
        !impl_->broken) {
      auto rolled = impl_->Roll();
      if (!rolled && rolled.error().code() == ErrorCode::kStorageFull && impl_->ReleaseBallast()) {
        rolled = impl_->Roll();
      }
      CAIRN_TRY(rolled);
    }
    std::lock_guard lock(impl_->mu);
    for (const auto& [id, seg] : impl_->segments) {
      if (seg == impl_->active || !seg->sealed || seg->damaged) continue;
      uint64_t body = seg->size - kSegmentHeaderSize;
      if (body == 0 ||
          static_cast<double>(seg->live_bytes) < max_live_ratio * static_cast<double>(body)) {
        candidates.push_back(seg);
      }
    }
  }
  CompactionStats stats;
  for (const SegmentPtr& seg : candidates) CAIRN_TRY(impl_->CompactSegment(seg, stats));
  impl_->EnsureBallast();
  return stats;
}

LogBlockstoreStats LogBlockstore::Stats() {
  std::lock_guard lock(impl_->mu);
  LogBlockstoreStats s;
  s.blocks = impl_->index.size();
  s.segments = static_cast<uint32_t>(impl_->segments.size());
  for (const auto& [id, seg] : impl_->segments) {
    s.live_bytes += seg->live_bytes;
    s.disk_bytes += seg->size;
  }
  s.active_segment = impl_->active->id;
  s.syncs = impl_->syncs.load(std::memory_order_relaxed);
  return s;
}

const RecoveryReport& LogBlockstore::recovery() const { return impl_->report; }

}  // namespace cairn::blockstore
