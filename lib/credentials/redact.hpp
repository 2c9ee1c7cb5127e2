// Removing a session token from text that may quote it (service messages, debug logs).
#pragma once

#include <string>
#include <string_view>

namespace iotjobs::detail {

// The text that replaces a redacted token.
inline constexpr std::string_view redaction_marker = "<redacted>";

// Replaces the session token `token` in `text` with redaction_marker, in one left-to-right pass
// over the original text (replacements are never searched again, so nothing can loop):
//  - the value of every "x-amz-security-token:" header line and "X-Amz-Security-Token=" query
//    parameter (names without case), as a canonical request quotes it, whatever that value is;
//  - elsewhere, the token as a whole run of token characters (letters, digits, + / = _ - %), never
//    a part of a longer run, and only when it is at least min_free_text_token long: a shorter
//    "token" (say "the") cannot be told apart from the service's own words, and replacing those
//    corrupts the message without protecting anything (real session tokens are hundreds of
//    characters long).
// An empty token changes nothing.
inline constexpr std::size_t min_free_text_token = 16;
void redact_in_place(std::string& text, std::string_view token);

}  // namespace iotjobs::detail
