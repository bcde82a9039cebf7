#include "wal/recovery.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>

#include "wal/snapshot_file.hpp"

namespace quorumlab::storage::wal {
namespace fs = std::filesystem;

// ---- LogReplay -------------------------------------------------------------------------------

void LogReplay::start(LogIndex base) {
  base_ = base;
  entries_.clear();
}

std::optional<std::string> LogReplay::apply(const RawRecord& record, SegmentInfo& segment) {
  switch (record.type) {
    case RecordType::entry: {
      auto e = decode_entry(record);
      if (!e) return std::string("malformed entry record");
      if (e->index != last_index() + 1) {
        return "entry index " + std::to_string(e->index) + " does not follow index " +
               std::to_string(last_index());
      }
      segment.max_index = std::max(segment.max_index, e->index);
      entries_.push_back(std::move(*e));
      return std::nullopt;
    }
    case RecordType::hard_state: {
      auto s = decode_hard_state(record);
      if (!s) return std::string("malformed hard-state record");
      hard_state_ = std::move(*s);
      return std::nullopt;
    }
    case RecordType::truncate: {
      auto index = decode_truncate(record);
      if (!index) return std::string("malformed truncate record");
      if (*index < base_) {
        // The entries it drops were in deleted segments, all covered by a snapshot.
        entries_.clear();
        base_ = *index;
      } else if (*index < last_index()) {
        entries_.resize(static_cast<std::size_t>(*index - base_));
      }
      return std::nullopt;
    }
    case RecordType::reset: {
      auto r = decode_reset(record);
      if (!r) return std::string("malformed reset record");
      entries_.clear();
      base_ = r->index;
      return std::nullopt;
    }
  }
  return std::string("unknown record type");
}

std::vector<LogEntry> LogReplay::take_entries_after(LogIndex index) {
  std::vector<LogEntry> out;
  if (index < base_) index = base_;
  const auto skip = static_cast<std::size_t>(std::min<LogIndex>(index - base_, entries_.size()));
  out.assign(std::make_move_iterator(entries_.begin() + static_cast<std::ptrdiff_t>(skip)),
             std::make_move_iterator(entries_.end()));
  entries_.clear();
  return out;
}

// ---- Directory scan --------------------------------------------------------------------------
namespace {

struct DirListing {
  std::map<std::uint64_t, fs::path> segments;  ///< by seq
  std::map<LogIndex, fs::path> snapshots;      ///< by last index
  std::map<LogIndex, fs::path> install_temps;  ///< snapshot-<index>.snap.install.tmp
  std::vector<fs::path> other_temps;           ///< any other *.tmp
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) throw_errno("cannot rename", from, errno);
}

class Recoverer {
 public:
  Recoverer(const fs::path& dir, spdlog::logger& logger, DiskCounters& counters)
      : dir_(dir), logger_(logger), counters_(counters) {}

  WalRecoveryResult run() {
    DirListing listing = list_dir();
    refuse_other_format_versions(listing);
    load_snapshot(listing);
    replay_segments(listing);
    complete_install(listing);
    remove_temps(listing);
    finish();
    if (dir_dirty_) sync_dir();
    return std::move(result_);
  }

 private:
  void note(std::string text) {
    logger_.warn("{}", text);
    result_.recovery.notes.push_back(std::move(text));
  }

  void sync_dir() {
    fsync_dir(dir_);
    counters_.fsyncs.fetch_add(1, std::memory_order_relaxed);
    dir_dirty_ = false;
  }

  DirListing list_dir() {
    DirListing out;
    for (const auto& de : fs::directory_iterator(dir_)) {
      const std::string name = de.path().filename().string();
      if (auto seg = parse_segment_file_name(name)) {
        if (!out.segments.emplace(seg->first, de.path()).second) {
          throw std::runtime_error("wal: two segment files with seq " + std::to_string(seg->first) +
                                   " in '" + dir_.string() + "'");
        }
      } else if (auto snap = parse_snapshot_file_name(name)) {
        out.snapshots.emplace(*snap, de.path());
      } else if (ends_with(name, ".tmp")) {
        const std::string install_suffix = "." + kInstallTag + ".tmp";
        const auto index =
            ends_with(name, install_suffix)
                ? parse_snapshot_file_name(name.substr(0, name.size() - install_suffix.size()))
                : std::nullopt;
        if (index) {
          out.install_temps.emplace(*index, de.path());
        } else {
          out.other_temps.push_back(de.path());
        }
      } else if (!ends_with(name, ".corrupt")) {
        note("ignored unknown file " + name);
      }
    }
    return out;
  }

  // A directory written by another format version is refused before anything in it is read
  // as data, cut, moved aside or removed.
  void refuse_other_format_versions(const DirListing& listing) {
    auto check = [&](const fs::path& path, bool segment) {
      const Bytes head =
          read_file_prefix(path, segment ? kSegmentHeaderBytes : kSnapshotHeaderBytes);
      std::uint32_t version = 0;
      HeaderStatus st;
      if (segment) {
        SegmentHeader h;
        st = parse_segment_header(head.data(), head.size(), h, version);
      } else {
        SnapshotHeader h;
        st = parse_snapshot_header(head.data(), head.size(), h, version);
      }
      if (st != HeaderStatus::bad_version) return;
      throw std::runtime_error(
          "wal: data directory '" + dir_.string() + "' was written in wal format version " +
          std::to_string(version) + " ('" + path.string() + "' has format version " +
          std::to_string(version) + "); this build reads format version " +
          std::to_string(kFormatVersion) +
          ". Nothing in it was changed. Start with an empty data directory, or run the build "
          "that wrote it");
    };
    for (const auto& [seq, path] : listing.segments)
      check(path, true);
    for (const auto& [index, path] : listing.snapshots)
      check(path, false);
  }

  // Newest snapshot whose checksums hold; damaged ones are moved aside.
  void load_snapshot(const DirListing& listing) {
    for (auto it = listing.snapshots.rbegin(); it != listing.snapshots.rend(); ++it) {
      SnapshotFileResult r = read_snapshot_file(it->second, it->first);
      if (r.snapshot) {
        snapshot_index_ = r.snapshot->last_index;
        result_.recovery.snapshot = std::move(r.snapshot);
        return;
      }
      const std::string name = it->second.filename().string();
      rename_or_throw(it->second, it->second.string() + ".corrupt");
      dir_dirty_ = true;
      note("snapshot " + name + " is damaged (" + r.problem + "); moved aside as " + name +
           ".corrupt, trying an older one");
    }
  }

  void replay_segments(const DirListing& listing) {
    std::vector<std::pair<std::uint64_t, fs::path>> files(listing.segments.begin(),
                                                          listing.segments.end());
    if (!files.empty()) max_seq_seen_ = files.back().first;
    for (std::size_t i = 0; i < files.size(); ++i) {
      const bool last = i + 1 == files.size();
      if (i > 0 && files[i].first != files[i - 1].first + 1) {
        set_aside_from(files, i,
                       "segment seq " + std::to_string(files[i - 1].first + 1) + " is missing");
        return;
      }
      if (!replay_one(files, i, last)) return;
    }
  }

  // Replays segment i. Returns false when the log ends inside it (or it was dropped).
  bool replay_one(const std::vector<std::pair<std::uint64_t, fs::path>>& files, std::size_t i,
                  bool last) {
    const fs::path& path = files[i].second;
    const std::string name = path.filename().string();
    const Bytes data = read_file(path);
    SegmentHeader h;
    std::uint32_t version = 0;
    const HeaderStatus hs = parse_segment_header(data.data(), data.size(), h, version);
    if (hs == HeaderStatus::bad_magic) {
      throw std::runtime_error("wal: '" + path.string() +
                               "' is not a quorumlab WAL segment (bad magic)");
    }
    if (hs == HeaderStatus::bad_version) {
      throw std::runtime_error("wal: segment '" + path.string() + "' has format version " +
                               std::to_string(version) + "; this build reads version " +
                               std::to_string(kFormatVersion));
    }
    if (hs != HeaderStatus::ok) {
      if (last) {
        // Headers are written before any record of their file and made durable by the same
        // fdatasync, so nothing in this file was ever reported durable.
        fs::remove(path);
        dir_dirty_ = true;
        note("removed segment " + name + " with a torn header (" + to_string(hs) +
             "): it was being created when the process stopped");
        return false;
      }
      set_aside_from(files, i, "segment " + name + " has a damaged header (" + to_string(hs) + ")");
      return false;
    }
    const auto named = parse_segment_file_name(name);
    if (h.seq != named->first || h.first_index != named->second) {
      throw std::runtime_error("wal: segment '" + path.string() + "' header says seq " +
                               std::to_string(h.seq) + ", first index " +
                               std::to_string(h.first_index) + ", unlike its file name");
    }
    SegmentInfo seg{h.seq, h.first_index, 0, h.flags, path};
    if (result_.segments.empty()) replay_.start(h.first_index == 0 ? 0 : h.first_index - 1);

    std::size_t off = kSegmentHeaderBytes;
    std::string problem;
    for (;;) {
      RawRecord rec;
      const ParseStatus st = parse_record(data.data() + off, data.size() - off, rec);
      if (st == ParseStatus::end_of_data) break;
      if (st == ParseStatus::zero_header &&
          std::all_of(data.begin() + static_cast<std::ptrdiff_t>(off), data.end(),
                      [](std::uint8_t b) { return b == 0; })) {
        if ((h.flags & kSegmentFlagPreallocated) == 0) problem = "zero-filled tail";
        break;  // preallocated: the zeros are padding, not data
      }
      if (st != ParseStatus::ok) {
        problem = to_string(st);
        break;
      }
      if (auto err = replay_.apply(rec, seg)) {
        problem = *err;
        break;
      }
      off += rec.total_bytes;
    }
    result_.segments.push_back(seg);
    result_.active_end_bytes = off;
    if (problem.empty()) return true;
    cut(files, i, data, off, problem);
    return false;
  }

  // Counts the checksum-valid records that follow `from` (searching byte by byte for the
  // first one), to tell a torn tail from damage in the middle of the log.
  static std::size_t valid_records_after(const Bytes& data, std::size_t from) {
    for (std::size_t off = from + 1; off + kRecordOverheadBytes <= data.size(); ++off) {
      RawRecord rec;
      if (parse_record(data.data() + off, data.size() - off, rec) != ParseStatus::ok) continue;
      std::size_t n = 0;
      while (parse_record(data.data() + off, data.size() - off, rec) == ParseStatus::ok) {
        ++n;
        off += rec.total_bytes;
      }
      return n;
    }
    return 0;
  }

  void cut(const std::vector<std::pair<std::uint64_t, fs::path>>& files, std::size_t i,
           const Bytes& data, std::size_t off, const std::string& problem) {
    const fs::path& path = files[i].second;
    const std::string name = path.filename().string();
    const std::size_t valid_after = valid_records_after(data, off);
    const std::size_t later_segments = files.size() - i - 1;
    const bool middle = valid_after > 0 || later_segments > 0;
    std::string text = "segment " + name + ": " +
                       (middle ? "CORRUPTION IN THE MIDDLE OF THE LOG" : "cut torn tail") +
                       " at +" + std::to_string(off) + " (" + problem + "); " +
                       std::to_string(data.size() - off) + " bytes dropped";
    if (middle) {
      // Keep the dropped bytes for inspection; they may hold entries reported durable.
      const fs::path saved = path.string() + ".tail-" + std::to_string(off) + ".corrupt";
      std::size_t end = data.size();  // without the zero padding of a preallocated segment
      while (end > off && data[end - 1] == 0)
        --end;
      File f = File::open(saved, O_WRONLY | O_CREAT | O_TRUNC);
      f.pwrite_all(data.data() + off, end - off, 0);
      f.sync();
      counters_.fsyncs.fetch_add(1, std::memory_order_relaxed);
      text += ", among them " + std::to_string(valid_after) +
              " valid-looking record(s) after the damage (saved in " + saved.filename().string() +
              ")";
      if (later_segments > 0) {
        text += "; " + std::to_string(later_segments) + " later segment(s) moved aside";
      }
      text += "; the log ends at index " + std::to_string(replay_.last_index());
    }
    File f = File::open(path, O_RDWR);
    f.truncate(off);
    if ((result_.segments.back().flags & kSegmentFlagPreallocated) != 0 && data.size() > off) {
      f.allocate(off, data.size() - off);
    }
    f.sync();
    counters_.fsyncs.fetch_add(1, std::memory_order_relaxed);
    note(std::move(text));
    for (std::size_t j = i + 1; j < files.size(); ++j) {
      rename_or_throw(files[j].second, files[j].second.string() + ".corrupt");
      dir_dirty_ = true;
    }
  }

  // The log ends before segment i: it and every later segment are moved aside.
  void set_aside_from(const std::vector<std::pair<std::uint64_t, fs::path>>& files, std::size_t i,
                      const std::string& why) {
    for (std::size_t j = i; j < files.size(); ++j) {
      rename_or_throw(files[j].second, files[j].second.string() + ".corrupt");
    }
    dir_dirty_ = true;
    note("CORRUPTION IN THE MIDDLE OF THE LOG: " + why + "; " + std::to_string(files.size() - i) +
         " segment(s) from there on moved aside as *.corrupt; the log ends at index " +
         std::to_string(replay_.last_index()));
  }

  // The log starts with a reset record for a snapshot that is still under its temporary name:
  // the process stopped between the two last steps of install_snapshot (see log_writer.cpp).
  void complete_install(DirListing& listing) {
    if (result_.segments.empty() || replay_.base() <= snapshot_index_) return;
    auto it = listing.install_temps.find(replay_.base());
    if (it == listing.install_temps.end()) return;  // finish() reports the hole
    SnapshotFileResult r = read_snapshot_file(it->second, it->first);
    if (!r.snapshot) return;
    const std::string name = snapshot_file_name(it->first);
    rename_or_throw(it->second, dir_ / name);
    dir_dirty_ = true;
    note("completed the installation of snapshot " + name +
         " (the process stopped after its reset record, before its rename)");
    snapshot_index_ = r.snapshot->last_index;
    result_.recovery.snapshot = std::move(r.snapshot);
    listing.install_temps.erase(it);
  }

  void remove_temps(const DirListing& listing) {
    std::vector<fs::path> all = listing.other_temps;
    for (const auto& [index, path] : listing.install_temps)
      all.push_back(path);
    for (const fs::path& p : all) {
      fs::remove(p);
      dir_dirty_ = true;
      note("removed unfinished temporary file " + p.filename().string());
    }
  }

  void finish() {
    StorageRecovery& rec = result_.recovery;
    if (!result_.segments.empty() && replay_.base() > snapshot_index_) {
      throw std::runtime_error(
          "wal: the log in '" + dir_.string() + "' starts after index " +
          std::to_string(replay_.base()) + " but the newest valid snapshot ends at index " +
          std::to_string(snapshot_index_) + ": entries " + std::to_string(snapshot_index_ + 1) +
          ".." + std::to_string(replay_.base()) + " are lost");
    }
    if (replay_.hard_state()) rec.hard_state = *replay_.hard_state();
    const LogIndex log_last = result_.segments.empty() ? 0 : replay_.last_index();
    rec.entries = replay_.take_entries_after(snapshot_index_);
    result_.last_index = std::max(log_last, snapshot_index_);
    result_.needs_reset = !result_.segments.empty() && log_last < snapshot_index_;
    // A new segment must continue the seqs of the kept ones; files moved aside keep their
    // seq in a name that no longer matches, so they cannot collide.
    result_.next_seq =
        result_.segments.empty() ? max_seq_seen_ + 1 : result_.segments.back().seq + 1;
  }

  fs::path dir_;
  spdlog::logger& logger_;
  DiskCounters& counters_;
  WalRecoveryResult result_;
  LogReplay replay_;
  LogIndex snapshot_index_ = 0;
  std::uint64_t max_seq_seen_ = 0;
  bool dir_dirty_ = false;
};

}  // namespace

WalRecoveryResult recover_wal_dir(const fs::path& dir, spdlog::logger& logger,
                                  DiskCounters& counters) {
  return Recoverer(dir, logger, counters).run();
}

}  // namespace quorumlab::storage::wal
