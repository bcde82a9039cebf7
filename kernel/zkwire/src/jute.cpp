#include "quorumlab/zkwire/jute.hpp"

#include <cstring>

namespace quorumlab::zkwire {

namespace {

/// Once this much of the frame buffer has been handed out, the rest is moved to the front.
constexpr std::size_t kCompactBytes = 64 * 1024;

std::string describe(const char* field, const std::string& what) {
  return std::string(field) + ": " + what;
}

}  // namespace

const std::uint8_t* JuteReader::need(std::size_t n, const char* field) {
  if (n > remaining()) {
    throw JuteError(describe(field, "truncated record (" + std::to_string(n) + " bytes needed, " +
                                        std::to_string(remaining()) + " left)"));
  }
  const std::uint8_t* p = data_ + pos_;
  pos_ += n;
  return p;
}

std::int32_t JuteReader::read_int(const char* field) {
  return load_be32(need(4, field));
}

std::int64_t JuteReader::read_long(const char* field) {
  const std::uint8_t* p = need(8, field);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | p[i];
  return static_cast<std::int64_t>(v);
}

bool JuteReader::read_bool(const char* field) {
  return *need(1, field) != 0;
}

std::size_t JuteReader::read_length(const char* field) {
  const std::int32_t len = read_int(field);
  if (len == -1) return SIZE_MAX;
  if (len < 0) throw JuteError(describe(field, "negative length " + std::to_string(len)));
  const auto n = static_cast<std::size_t>(len);
  if (n > max_length_) {
    throw JuteError(describe(
        field, "length " + std::to_string(n) + " above the limit " + std::to_string(max_length_)));
  }
  if (n > remaining()) {
    throw JuteError(describe(field, "length " + std::to_string(n) + " beyond the record (" +
                                        std::to_string(remaining()) + " bytes left)"));
  }
  return n;
}

std::string JuteReader::read_string(const char* field, bool* was_null) {
  const std::size_t n = read_length(field);
  if (was_null) *was_null = n == SIZE_MAX;
  if (n == SIZE_MAX) return std::string();
  const std::uint8_t* p = need(n, field);
  return std::string(reinterpret_cast<const char*>(p), n);
}

Bytes JuteReader::read_buffer(const char* field, bool* was_null) {
  const std::size_t n = read_length(field);
  if (was_null) *was_null = n == SIZE_MAX;
  if (n == SIZE_MAX) return Bytes();
  const std::uint8_t* p = need(n, field);
  return Bytes(p, p + n);
}

std::size_t JuteReader::read_count(const char* field, std::size_t min_element_bytes) {
  const std::int32_t count = read_int(field);
  if (count == -1) return 0;
  if (count < 0) throw JuteError(describe(field, "negative count " + std::to_string(count)));
  const auto n = static_cast<std::size_t>(count);
  if (n > max_length_) {
    throw JuteError(describe(
        field, "count " + std::to_string(n) + " above the limit " + std::to_string(max_length_)));
  }
  if (min_element_bytes > 0 && n > remaining() / min_element_bytes) {
    throw JuteError(describe(field, "count " + std::to_string(n) + " cannot fit in the " +
                                        std::to_string(remaining()) + " bytes left"));
  }
  return n;
}

void JuteWriter::write_int(std::int32_t v) {
  std::uint8_t b[4];
  store_be32(b, v);
  out_->insert(out_->end(), b, b + 4);
}

void JuteWriter::write_long(std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  std::uint8_t b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<std::uint8_t>(u);
    u >>= 8;
  }
  out_->insert(out_->end(), b, b + 8);
}

void JuteWriter::write_string(std::string_view s) {
  write_int(static_cast<std::int32_t>(s.size()));
  out_->insert(out_->end(), s.begin(), s.end());
}

void JuteWriter::write_buffer(const std::uint8_t* data, std::size_t size) {
  write_int(static_cast<std::int32_t>(size));
  if (size) out_->insert(out_->end(), data, data + size);
}

std::size_t JuteWriter::begin_frame() {
  const std::size_t start = out_->size();
  out_->resize(start + 4);
  return start;
}

void JuteWriter::end_frame(std::size_t start) {
  store_be32(out_->data() + start, static_cast<std::int32_t>(out_->size() - start - 4));
}

void FrameBuffer::append(const std::uint8_t* data, std::size_t size) {
  compact();
  buf_.insert(buf_.end(), data, data + size);
}

FrameBuffer::Status FrameBuffer::next(const std::uint8_t** payload, std::size_t* size,
                                      std::int64_t* bad_length) {
  if (buffered() < 4) return Status::kNeedMore;
  const std::int32_t len = load_be32(buf_.data() + pos_);
  if (len < 0 || static_cast<std::size_t>(len) > max_frame_bytes_) {
    if (bad_length) *bad_length = len;
    return Status::kBadLength;
  }
  const auto n = static_cast<std::size_t>(len);
  if (buffered() - 4 < n) return Status::kNeedMore;
  *payload = buf_.data() + pos_ + 4;
  *size = n;
  pos_ += 4 + n;
  return Status::kFrame;
}

void FrameBuffer::consume(std::size_t n) {
  pos_ += std::min(n, buffered());
}

void FrameBuffer::compact() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ >= kCompactBytes) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
}

}  // namespace quorumlab::zkwire
