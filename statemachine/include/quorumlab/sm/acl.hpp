// ACLs, authentication ids and ZooKeeper's ACL rules (reference/zookeeper.md §1.7):
// schemes world, auth, digest and ip; the super user; fixupACL; checkACL; getACL masking.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quorumlab/sm/err.hpp"

namespace quorumlab::sm {

/// Permission bits (`ZooDefs.Perms`). There is no LOOKUP bit.
namespace perms {
constexpr std::int32_t kRead = 1;
constexpr std::int32_t kWrite = 2;
constexpr std::int32_t kCreate = 4;
constexpr std::int32_t kDelete = 8;
constexpr std::int32_t kAdmin = 16;
constexpr std::int32_t kAll = 31;
}  // namespace perms

/// An identity `scheme:id`, e.g. world:anyone, ip:10.0.0.0/8, digest:user:base64hash.
struct Id {
  std::string scheme;
  std::string id;

  friend bool operator==(const Id& a, const Id& b) { return a.scheme == b.scheme && a.id == b.id; }
  friend bool operator!=(const Id& a, const Id& b) { return !(a == b); }
};

/// One ACL entry `{perms, Id}`.
struct Acl {
  std::int32_t perms = 0;
  Id id;

  friend bool operator==(const Acl& a, const Acl& b) { return a.perms == b.perms && a.id == b.id; }
  friend bool operator!=(const Acl& a, const Acl& b) { return !(a == b); }
};

/// An ordered ACL list, as stored on a znode and returned by getACL.
using AclList = std::vector<Acl>;
/// A shared, immutable ACL list (the tree interns lists; watch triggers carry them).
using AclRef = std::shared_ptr<const AclList>;

/// OPEN_ACL_UNSAFE = [ALL world:anyone].
AclList open_acl_unsafe();
/// CREATOR_ALL_ACL = [ALL auth:].
AclList creator_all_acl();
/// READ_ACL_UNSAFE = [READ world:anyone].
AclList read_acl_unsafe();

/// The identities a client connection holds (ServerCnxn.authInfo): e.g. the automatic
/// ip:<address> id and every digest id added by addauth. `super` is set when the connection
/// authenticated with the configured super digest; a super connection passes every ACL check.
struct AuthInfo {
  std::vector<Id> ids;
  bool super = false;

  friend bool operator==(const AuthInfo& a, const AuthInfo& b) {
    return a.ids == b.ids && a.super == b.super;
  }
};

/// ZooKeeper's digest id for a user/password pair: `user:base64(sha1("user:password"))`.
std::string digest_id(std::string_view user, std::string_view password);

/// `DigestAuthenticationProvider.generateDigest("user:password")`: the text before the first
/// ':' (the whole text if there is none), ':', base64 of SHA-1 of the whole text.
std::string generate_digest(std::string_view user_colon_password);

/// addauth (AuthPacket, opcode 100) for `scheme`:
/// - "digest": `credentials` is "user:password"; appends digest:generate_digest(credentials)
///   to `auth->ids` unless already present, and sets `auth->super` if that id equals
///   `super_digest` (the `superDigest` setting "super:<base64>", empty = no super user).
/// - any other scheme: AUTHFAILED (ip ids are added by the kernel from the peer address;
///   sasl and x509 are not supported).
/// Never fails for digest.
Err add_auth(AuthInfo* auth, std::string_view scheme, std::string_view credentials,
             std::string_view super_digest);

/// `IPAuthenticationProvider.isValid`: "addr" or "addr/bits" with an IPv4 dotted quad or an
/// IPv6 address, and 0 <= bits <= address bits.
bool is_valid_ip_acl(std::string_view id);

/// `IPAuthenticationProvider.matches`: true iff client address `client_ip` (no prefix) lies in
/// the prefix `acl_expr` ("addr[/bits]"). IPv4 never matches an IPv6 expression or vice versa.
bool ip_matches(std::string_view client_ip, std::string_view acl_expr);

/// `DigestAuthenticationProvider.isValid`: the id splits on ':' into exactly two parts (Java
/// `String.split` semantics, trailing empty parts dropped).
bool is_valid_digest_acl(std::string_view id);

/// fixupACL (§1.7), as applied to create and setACL:
/// - duplicates (equal perms and id) are removed first, keeping the first occurrence;
/// - an empty list is INVALIDACL;
/// - world:anyone is kept; any other world id is INVALIDACL;
/// - `auth:` (any id text) expands to one entry with its perms per digest id in `auth.ids`
///   (the authenticated ids; ip ids are not authenticated), INVALIDACL if there is none;
/// - digest and ip entries are kept if their id is valid, otherwise INVALIDACL;
/// - any other scheme is INVALIDACL.
/// Perms are not validated (ZooKeeper does not). On OK, `*out` holds the fixed list.
Err fixup_acl(const AclList& acl, const AuthInfo& auth, AclList* out);

/// checkACL (§1.7): true iff `acl` is empty, or `auth.super`, or some entry with
/// `(entry.perms & perm) != 0` matches: world:anyone, or an id in `auth.ids` of the same scheme
/// that matches (digest: equal id; ip: prefix match).
bool check_acl(const AclList& acl, std::int32_t perm, const AuthInfo& auth);

/// The getACL answer for a caller without ADMIN: digest ids are masked to "user:x".
AclList mask_digest_ids(const AclList& acl);

}  // namespace quorumlab::sm
