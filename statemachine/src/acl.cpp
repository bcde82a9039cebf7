#include "quorumlab/sm/acl.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "quorumlab/sm/crypto.hpp"

namespace quorumlab::sm {

namespace {

constexpr std::string_view kWorld = "world";
constexpr std::string_view kAnyone = "anyone";
constexpr std::string_view kAuth = "auth";
constexpr std::string_view kDigest = "digest";
constexpr std::string_view kIp = "ip";

// An address in network byte order: 4 bytes (IPv4) or 16 bytes (IPv6).
struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};
  int size = 0;
};

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal 0..max from 1..9 digits.
bool parse_decimal(std::string_view s, int max, int* out) {
  if (!all_digits(s) || s.size() > 9) return false;
  int v = 0;
  for (char c : s)
    v = v * 10 + (c - '0');
  if (v > max) return false;
  *out = v;
  return true;
}

bool parse_ipv4(std::string_view s, std::uint8_t* out) {
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = s.find('.');
    const std::string_view part = i < 3 ? s.substr(0, dot) : s;
    if ((i < 3) == (dot == std::string_view::npos)) return false;
    int v = 0;
    if (!parse_decimal(part, 255, &v)) return false;
    out[i] = static_cast<std::uint8_t>(v);
    if (i < 3) s.remove_prefix(dot + 1);
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses ':'-separated 16-bit groups of one side of "::" into `groups`. An IPv4 dotted quad is
// allowed as the last piece when `v4_tail` is set and counts as two groups.
bool parse_ipv6_groups(std::string_view s, bool v4_tail, std::vector<std::uint16_t>* groups) {
  if (s.empty()) return true;
  while (true) {
    const std::size_t colon = s.find(':');
    const std::string_view piece = s.substr(0, colon);
    if (colon == std::string_view::npos && v4_tail && piece.find('.') != std::string_view::npos) {
      std::uint8_t v4[4];
      if (!parse_ipv4(piece, v4)) return false;
      groups->push_back(static_cast<std::uint16_t>((v4[0] << 8) | v4[1]));
      groups->push_back(static_cast<std::uint16_t>((v4[2] << 8) | v4[3]));
      return true;
    }
    if (piece.empty() || piece.size() > 4) return false;
    int v = 0;
    for (char c : piece) {
      const int h = hex_value(c);
      if (h < 0) return false;
      v = v * 16 + h;
    }
    groups->push_back(static_cast<std::uint16_t>(v));
    if (colon == std::string_view::npos) return true;
    s.remove_prefix(colon + 1);
  }
}

bool parse_ipv6(std::string_view s, std::uint8_t* out) {
  const std::size_t zone = s.find('%');
  if (zone != std::string_view::npos) s = s.substr(0, zone);
  const std::size_t dc = s.find("::");
  if (dc != std::string_view::npos && s.find("::", dc + 1) != std::string_view::npos) return false;
  std::vector<std::uint16_t> head, tail;
  const bool compressed = dc != std::string_view::npos;
  if (!parse_ipv6_groups(compressed ? s.substr(0, dc) : s, !compressed, &head)) return false;
  if (compressed && !parse_ipv6_groups(s.substr(dc + 2), true, &tail)) return false;
  const std::size_t n = head.size() + tail.size();
  if (compressed ? n > 7 : n != 8) return false;
  std::vector<std::uint16_t> all = head;
  all.resize(8 - tail.size(), 0);
  all.insert(all.end(), tail.begin(), tail.end());
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(all[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(all[i] & 0xFF);
  }
  return true;
}

bool parse_ip(std::string_view s, IpAddr* addr) {
  if (s.find(':') != std::string_view::npos) {
    addr->size = 16;
    return parse_ipv6(s, addr->bytes.data());
  }
  addr->size = 4;
  return parse_ipv4(s, addr->bytes.data());
}

// "addr[/bits]" -> address and prefix length (default: the full address).
bool parse_ip_expr(std::string_view expr, IpAddr* addr, int* bits) {
  const std::size_t slash = expr.find('/');
  if (!parse_ip(expr.substr(0, slash), addr)) return false;
  *bits = addr->size * 8;
  if (slash == std::string_view::npos) return true;
  return parse_decimal(expr.substr(slash + 1), addr->size * 8, bits);
}

void mask_bits(IpAddr* a, int bits) {
  for (int i = 0; i < a->size; ++i) {
    const int keep = std::clamp(bits - 8 * i, 0, 8);
    a->bytes[i] &= static_cast<std::uint8_t>(0xFF00 >> keep);
  }
}

bool is_world_anyone(const Id& id) {
  return id.scheme == kWorld && id.id == kAnyone;
}

// ServerAuthenticationProvider.matches for the schemes we register.
bool provider_matches(const Id& held, const Id& acl_id) {
  if (held.scheme != acl_id.scheme) return false;
  if (held.scheme == kDigest) return held.id == acl_id.id;
  if (held.scheme == kIp) return ip_matches(held.id, acl_id.id);
  return false;
}

AclList remove_duplicates(const AclList& acl) {
  AclList out;
  for (const Acl& a : acl) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

}  // namespace

AclList open_acl_unsafe() {
  return {Acl{perms::kAll, Id{"world", "anyone"}}};
}
AclList creator_all_acl() {
  return {Acl{perms::kAll, Id{"auth", ""}}};
}
AclList read_acl_unsafe() {
  return {Acl{perms::kRead, Id{"world", "anyone"}}};
}

std::string generate_digest(std::string_view user_colon_password) {
  const std::string_view user = user_colon_password.substr(0, user_colon_password.find(':'));
  const Sha1Digest d = sha1(user_colon_password);
  std::string out(user);
  out += ':';
  out += base64_encode(d.data(), d.size());
  return out;
}

std::string digest_id(std::string_view user, std::string_view password) {
  std::string joined(user);
  joined += ':';
  joined += password;
  return generate_digest(joined);
}

Err add_auth(AuthInfo* auth, std::string_view scheme, std::string_view credentials,
             std::string_view super_digest) {
  if (scheme != kDigest) return Err::AUTHFAILED;
  Id id{std::string(kDigest), generate_digest(credentials)};
  if (!super_digest.empty() && id.id == super_digest) auth->super = true;
  if (std::find(auth->ids.begin(), auth->ids.end(), id) == auth->ids.end()) {
    auth->ids.push_back(std::move(id));
  }
  return Err::OK;
}

bool is_valid_ip_acl(std::string_view id) {
  IpAddr addr;
  int bits = 0;
  return parse_ip_expr(id, &addr, &bits);
}

bool ip_matches(std::string_view client_ip, std::string_view acl_expr) {
  IpAddr acl_addr, client;
  int bits = 0;
  if (!parse_ip_expr(acl_expr, &acl_addr, &bits)) return false;
  if (!parse_ip(client_ip, &client) || client.size != acl_addr.size) return false;
  mask_bits(&acl_addr, bits);
  mask_bits(&client, bits);
  return acl_addr.bytes == client.bytes;
}

bool is_valid_digest_acl(std::string_view id) {
  if (id.empty()) return false;  // Java: "".split(":") is [""], one part.
  std::size_t parts = 1;
  for (char c : id)
    parts += c == ':';
  // Java drops trailing empty parts.
  std::size_t end = id.size();
  while (end > 0 && id[end - 1] == ':')
    --end, --parts;
  if (end == 0) parts = 0;
  return parts == 2;
}

Err fixup_acl(const AclList& acl, const AuthInfo& auth, AclList* out) {
  const AclList unique = remove_duplicates(acl);
  if (unique.empty()) return Err::INVALIDACL;
  AclList result;
  for (const Acl& a : unique) {
    if (is_world_anyone(a.id)) {
      result.push_back(a);
    } else if (a.id.scheme == kAuth) {
      bool any = false;
      for (const Id& held : auth.ids) {
        if (held.scheme != kDigest) continue;  // only digest ids are "authenticated"
        result.push_back(Acl{a.perms, held});
        any = true;
      }
      if (!any) return Err::INVALIDACL;
    } else if (a.id.scheme == kDigest ? is_valid_digest_acl(a.id.id)
               : a.id.scheme == kIp   ? is_valid_ip_acl(a.id.id)
                                      : false) {
      result.push_back(a);
    } else {
      return Err::INVALIDACL;
    }
  }
  *out = std::move(result);
  return Err::OK;
}

bool check_acl(const AclList& acl, std::int32_t perm, const AuthInfo& auth) {
  if (acl.empty() || auth.super) return true;
  for (const Acl& a : acl) {
    if ((a.perms & perm) == 0) continue;
    if (is_world_anyone(a.id)) return true;
    for (const Id& held : auth.ids) {
      if (provider_matches(held, a.id)) return true;
    }
  }
  return false;
}

AclList mask_digest_ids(const AclList& acl) {
  AclList out = acl;
  for (Acl& a : out) {
    if (a.id.scheme != kDigest) continue;
    // Java: id.replaceAll(":.*", ":x"); '.' stops at line terminators.
    std::string masked;
    const std::string& s = a.id.id;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != ':') {
        masked += s[i];
        continue;
      }
      masked += ":x";
      while (i + 1 < s.size() && s[i + 1] != '\n' && s[i + 1] != '\r')
        ++i;
    }
    a.id.id = std::move(masked);
  }
  return out;
}

}  // namespace quorumlab::sm
