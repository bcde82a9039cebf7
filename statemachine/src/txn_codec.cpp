// Txn wire format, version 1 (all integers are LEB128 varints; signed ones zigzag-encoded;
// str/bytes are a varint length followed by the bytes):
//
//   txn     := u8 format(=1) header op
//   header  := s64 session_id, s32 cxid, s64 time_ms, varint n, n * (str scheme, str id),
//              u8 super(0|1)
//   op      := u8 tag, body
//     tag 0 noop            -
//     tag 1 create          str path, bytes data, acl, s32 mode, s64 ttl_ms
//     tag 2 delete          str path, s32 version
//     tag 3 setData         str path, bytes data, s32 version
//     tag 4 setACL          str path, acl, s32 version
//     tag 5 check           str path, s32 version
//     tag 6 multi           varint n, n * (u8 tag in {1,2,3,5,10,11}, body)
//     tag 7 createSession   s64 session_id, s32 timeout_ms
//     tag 8 closeSession    s64 session_id
//     tag 9 deleteExpired   str path
//     tag 10 create, null data   str path, acl, s32 mode, s64 ttl_ms
//     tag 11 setData, null data  str path, s32 version
//   acl     := varint n, n * (s32 perms, str scheme, str id)
//
// Decoding rejects trailing bytes, so every valid encoding has exactly one meaning.
#include <type_traits>

#include "byte_io.hpp"
#include "quorumlab/sm/txn.hpp"

namespace quorumlab::sm {

namespace {

using detail::ByteReader;
using detail::ByteWriter;

constexpr std::uint8_t kFormat = 1;

enum Tag : std::uint8_t {
  kTagNoOp = 0,
  kTagCreate = 1,
  kTagDelete = 2,
  kTagSetData = 3,
  kTagSetAcl = 4,
  kTagCheck = 5,
  kTagMulti = 6,
  kTagCreateSession = 7,
  kTagCloseSession = 8,
  kTagDeleteExpired = 9,
  // Null data (ZooKeeper's null byte[], jute length -1) as its own tags, so tags 1 and 3 keep
  // their encoding and every encoding still has exactly one meaning.
  kTagCreateNullData = 10,
  kTagSetDataNullData = 11,
};

// ---- encoding ----

void put_acl(ByteWriter& w, const AclList& acl) {
  w.varint(acl.size());
  for (const Acl& a : acl) {
    w.svarint(a.perms);
    w.str(a.id.scheme);
    w.str(a.id.id);
  }
}

void put_body(ByteWriter& w, const NoOp&) {
  w.u8(kTagNoOp);
}
void put_body(ByteWriter& w, const CreateOp& op) {
  w.u8(op.data_null ? kTagCreateNullData : kTagCreate);
  w.str(op.path);
  if (!op.data_null) w.bytes(op.data.data(), op.data.size());
  put_acl(w, op.acl);
  w.svarint(op.mode);
  w.svarint(op.ttl_ms);
}
void put_body(ByteWriter& w, const DeleteOp& op) {
  w.u8(kTagDelete);
  w.str(op.path);
  w.svarint(op.version);
}
void put_body(ByteWriter& w, const SetDataOp& op) {
  w.u8(op.data_null ? kTagSetDataNullData : kTagSetData);
  w.str(op.path);
  if (!op.data_null) w.bytes(op.data.data(), op.data.size());
  w.svarint(op.version);
}
void put_body(ByteWriter& w, const SetAclOp& op) {
  w.u8(kTagSetAcl);
  w.str(op.path);
  put_acl(w, op.acl);
  w.svarint(op.version);
}
void put_body(ByteWriter& w, const CheckOp& op) {
  w.u8(kTagCheck);
  w.str(op.path);
  w.svarint(op.version);
}
void put_body(ByteWriter& w, const MultiOp& op) {
  w.u8(kTagMulti);
  w.varint(op.ops.size());
  for (const MultiSubOp& sub : op.ops) {
    std::visit([&](const auto& o) { put_body(w, o); }, sub);
  }
}
void put_body(ByteWriter& w, const CreateSessionOp& op) {
  w.u8(kTagCreateSession);
  w.svarint(op.session_id);
  w.svarint(op.timeout_ms);
}
void put_body(ByteWriter& w, const CloseSessionOp& op) {
  w.u8(kTagCloseSession);
  w.svarint(op.session_id);
}
void put_body(ByteWriter& w, const DeleteExpiredOp& op) {
  w.u8(kTagDeleteExpired);
  w.str(op.path);
}

// ---- decoding ----

bool get_acl(ByteReader& r, AclList* acl) {
  std::size_t n = 0;
  if (!r.count(3, &n)) return false;  // an entry takes at least 3 bytes
  acl->clear();
  for (std::size_t i = 0; i < n; ++i) {
    Acl a;
    if (!r.svarint32(&a.perms) || !r.str(&a.id.scheme) || !r.str(&a.id.id)) return false;
    acl->push_back(std::move(a));
  }
  return true;
}

bool get_create(ByteReader& r, CreateOp* op, bool null_data = false) {
  op->data_null = null_data;
  return r.str(&op->path) && (null_data || r.bytes(&op->data)) && get_acl(r, &op->acl) &&
         r.svarint32(&op->mode) && r.svarint(&op->ttl_ms);
}
bool get_delete(ByteReader& r, DeleteOp* op) {
  return r.str(&op->path) && r.svarint32(&op->version);
}
bool get_set_data(ByteReader& r, SetDataOp* op, bool null_data = false) {
  op->data_null = null_data;
  return r.str(&op->path) && (null_data || r.bytes(&op->data)) && r.svarint32(&op->version);
}
bool get_set_acl(ByteReader& r, SetAclOp* op) {
  return r.str(&op->path) && get_acl(r, &op->acl) && r.svarint32(&op->version);
}
bool get_check(ByteReader& r, CheckOp* op) {
  return r.str(&op->path) && r.svarint32(&op->version);
}

bool get_sub_op(ByteReader& r, MultiSubOp* out) {
  std::uint8_t tag = 0;
  if (!r.u8(&tag)) return false;
  switch (tag) {
    case kTagCreate:
      return get_create(r, &out->emplace<CreateOp>());
    case kTagCreateNullData:
      return get_create(r, &out->emplace<CreateOp>(), true);
    case kTagDelete:
      return get_delete(r, &out->emplace<DeleteOp>());
    case kTagSetData:
      return get_set_data(r, &out->emplace<SetDataOp>());
    case kTagSetDataNullData:
      return get_set_data(r, &out->emplace<SetDataOp>(), true);
    case kTagCheck:
      return get_check(r, &out->emplace<CheckOp>());
    default:
      return false;
  }
}

bool get_multi(ByteReader& r, MultiOp* op) {
  std::size_t n = 0;
  if (!r.count(2, &n)) return false;  // a sub-op takes at least 2 bytes
  for (std::size_t i = 0; i < n; ++i) {
    MultiSubOp sub;
    if (!get_sub_op(r, &sub)) return false;
    op->ops.push_back(std::move(sub));
  }
  return true;
}

bool get_op(ByteReader& r, TxnOp* op) {
  std::uint8_t tag = 0;
  if (!r.u8(&tag)) return false;
  switch (tag) {
    case kTagNoOp:
      op->emplace<NoOp>();
      return true;
    case kTagCreate:
      return get_create(r, &op->emplace<CreateOp>());
    case kTagCreateNullData:
      return get_create(r, &op->emplace<CreateOp>(), true);
    case kTagDelete:
      return get_delete(r, &op->emplace<DeleteOp>());
    case kTagSetData:
      return get_set_data(r, &op->emplace<SetDataOp>());
    case kTagSetDataNullData:
      return get_set_data(r, &op->emplace<SetDataOp>(), true);
    case kTagSetAcl:
      return get_set_acl(r, &op->emplace<SetAclOp>());
    case kTagCheck:
      return get_check(r, &op->emplace<CheckOp>());
    case kTagMulti:
      return get_multi(r, &op->emplace<MultiOp>());
    case kTagCreateSession: {
      auto& o = op->emplace<CreateSessionOp>();
      return r.svarint(&o.session_id) && r.svarint32(&o.timeout_ms);
    }
    case kTagCloseSession:
      return r.svarint(&op->emplace<CloseSessionOp>().session_id);
    case kTagDeleteExpired:
      return r.str(&op->emplace<DeleteExpiredOp>().path);
    default:
      return false;
  }
}

bool get_header(ByteReader& r, TxnHeader* h) {
  std::size_t n = 0;
  if (!r.svarint(&h->session_id) || !r.svarint32(&h->cxid) || !r.svarint(&h->time_ms) ||
      !r.count(2, &n)) {
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    Id id;
    if (!r.str(&id.scheme) || !r.str(&id.id)) return false;
    h->auth.ids.push_back(std::move(id));
  }
  std::uint8_t super = 0;
  if (!r.u8(&super) || super > 1) return false;
  h->auth.super = super == 1;
  return true;
}

std::optional<Txn> fail(std::string* error, const char* why) {
  if (error) *error = why;
  return std::nullopt;
}

}  // namespace

OpType op_type(const TxnOp& op) {
  static constexpr OpType kTypes[] = {
      OpType::kNoOp,         OpType::kCreate,       OpType::kDelete, OpType::kSetData,
      OpType::kSetAcl,       OpType::kCheck,        OpType::kMulti,  OpType::kCreateSession,
      OpType::kCloseSession, OpType::kDeleteExpired};
  static_assert(std::variant_size_v<TxnOp> == std::size(kTypes));
  return kTypes[op.index()];
}

OpType op_type(const MultiSubOp& op) {
  static constexpr OpType kTypes[] = {OpType::kCreate, OpType::kDelete, OpType::kSetData,
                                      OpType::kCheck};
  static_assert(std::variant_size_v<MultiSubOp> == std::size(kTypes));
  return kTypes[op.index()];
}

Bytes encode(const Txn& txn) {
  Bytes out;
  ByteWriter w(&out);
  w.u8(kFormat);
  w.svarint(txn.header.session_id);
  w.svarint(txn.header.cxid);
  w.svarint(txn.header.time_ms);
  w.varint(txn.header.auth.ids.size());
  for (const Id& id : txn.header.auth.ids) {
    w.str(id.scheme);
    w.str(id.id);
  }
  w.u8(txn.header.auth.super ? 1 : 0);
  std::visit([&](const auto& o) { put_body(w, o); }, txn.op);
  return out;
}

std::optional<Txn> decode(const std::uint8_t* data, std::size_t size, std::string* error) {
  ByteReader r(data, size);
  std::uint8_t format = 0;
  if (!r.u8(&format)) return fail(error, "txn: empty input");
  if (format != kFormat) return fail(error, "txn: unknown format version");
  Txn txn;
  if (!get_header(r, &txn.header)) return fail(error, "txn: malformed header");
  if (!get_op(r, &txn.op)) return fail(error, "txn: malformed or unknown op");
  if (!r.at_end()) return fail(error, "txn: trailing bytes");
  return txn;
}

// ---- equality ----

bool operator==(const CreateOp& a, const CreateOp& b) {
  return a.path == b.path && a.data == b.data && a.data_null == b.data_null && a.acl == b.acl &&
         a.mode == b.mode && a.ttl_ms == b.ttl_ms;
}
bool operator==(const DeleteOp& a, const DeleteOp& b) {
  return a.path == b.path && a.version == b.version;
}
bool operator==(const SetDataOp& a, const SetDataOp& b) {
  return a.path == b.path && a.data == b.data && a.data_null == b.data_null &&
         a.version == b.version;
}
bool operator==(const SetAclOp& a, const SetAclOp& b) {
  return a.path == b.path && a.acl == b.acl && a.version == b.version;
}
bool operator==(const CheckOp& a, const CheckOp& b) {
  return a.path == b.path && a.version == b.version;
}
bool operator==(const MultiOp& a, const MultiOp& b) {
  return a.ops == b.ops;
}
bool operator==(const CreateSessionOp& a, const CreateSessionOp& b) {
  return a.session_id == b.session_id && a.timeout_ms == b.timeout_ms;
}
bool operator==(const CloseSessionOp& a, const CloseSessionOp& b) {
  return a.session_id == b.session_id;
}
bool operator==(const DeleteExpiredOp& a, const DeleteExpiredOp& b) {
  return a.path == b.path;
}
bool operator==(const NoOp&, const NoOp&) {
  return true;
}
bool operator==(const TxnHeader& a, const TxnHeader& b) {
  return a.session_id == b.session_id && a.cxid == b.cxid && a.time_ms == b.time_ms &&
         a.auth == b.auth;
}
bool operator==(const Txn& a, const Txn& b) {
  return a.header == b.header && a.op == b.op;
}

}  // namespace quorumlab::sm
