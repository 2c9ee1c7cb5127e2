// The AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials), read the way
// the AWS SDKs read them, for the settings this client uses.
//
// Files: AWS_CONFIG_FILE (default HOME/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (default
// HOME/.aws/credentials); a leading "~" is HOME. Every variable, HOME included, comes from an
// injected lookup, so the CLI and tests never see the host's environment. A file that does not
// exist (or no HOME for a default path) reads as empty; a file that exists but cannot be read,
// and a malformed line, are errors naming the file and the line (never the line's text: the
// credentials file holds secrets).
//
// Syntax (botocore's configparser rules, where they matter here):
//   [section]                 trailing "# ..." / "; ..." after the ']' allowed
//   key = value               key and value trimmed; keys lower-cased; '=' is the only delimiter;
//                             no inline comments (a '#' inside a value is part of it)
//   # comment, ; comment      whole lines only; blank lines are skipped
//   iot =                     a key with an empty value followed by indented "key = value" lines:
//     endpoint_url = URL      a sub-section (used by [services NAME] -> iot -> endpoint_url)
//   key = first               an indented line after a key with a value continues that value
//     second                  ("first\nsecond"), as configparser does
// A key before any section header is an error. A repeated section or key merges, the later value
// winning (botocore would refuse the duplicate; the JS SDK merges).
//
// Sections: in the config file "[default]" and "[profile NAME]" are profiles ("[profile default]"
// is the default profile too) and "[services NAME]" are service sections; a bare "[NAME]" is not a
// profile there and is ignored. In the credentials file every "[NAME]" is a profile.
//
// Profile name, first match: the explicit name (client_config::profile, --profile), AWS_PROFILE,
// AWS_DEFAULT_PROFILE, "default". AWS_PROFILE comes before AWS_DEFAULT_PROFILE because it is the
// variable the AWS SDKs and Tools reference guide documents and the only one the JS, Java, Go and
// Rust SDKs read; AWS_DEFAULT_PROFILE is the legacy AWS CLI v1 / botocore name (botocore reads it
// first). They only disagree when both are set to different names.
// A chosen profile other than "default" that neither file names is an error, as in botocore:
// "The config profile (NAME) could not be found". A missing "default" profile is simply empty.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace iotjobs::detail {

// Same alias as in credentials/provider.hpp: returns the variable or null.
using env_lookup = std::function<const char*(const char*)>;

struct ini_value {
    std::string value;
    std::string file;                                   // path of the file it came from
    unsigned line = 0;                                  // 1-based line of the key
    std::map<std::string, ini_value, std::less<>> sub;  // indented "key = value" lines under it
};
using ini_section = std::map<std::string, ini_value, std::less<>>;
using ini_sections = std::map<std::string, ini_section, std::less<>>;  // by trimmed header text

// Parses INI text (`path` is only for messages). Throws std::system_error
// (client_errc::invalid_configuration) "PATH line N: problem" on a malformed line.
ini_sections parse_ini(std::string_view text, const std::string& path);

// Reads and parses a file; a missing file is empty. Same errors as parse_ini, plus an unreadable file.
ini_sections read_ini_file(const std::string& path);

// The paths of the two files ("" when the default is wanted and HOME is unset).
std::string shared_config_path(const env_lookup& env);
std::string shared_credentials_path(const env_lookup& env);

// The profile in use and what it holds.
struct profile_settings {
    std::string name;              // "default" unless chosen otherwise
    std::string source;            // how it was chosen: the explicit source, "AWS_PROFILE", ..., "default"
    bool explicit_choice = false;  // named in code / on the command line
    bool found = false;            // some section of either file names it
    std::string config_path;       // the files read ("" when unknown)
    std::string credentials_path;
    // The config file's section overlaid with the credentials file's (botocore's full_config).
    ini_section values;
    // aws_access_key_id / aws_secret_access_key / aws_session_token, as one set: from the
    // credentials file when its section has aws_access_key_id, else from the merged section (so a
    // key id from one file is never paired with a session token from the other).
    ini_section credential_values;
    ini_sections services;  // [services NAME] sections of the config file, by NAME

    // A setting, or null when unset or empty.
    const ini_value* get(std::string_view key) const;
    // "profile dev" plus where it was looked for, for messages.
    std::string describe() const;
};

// Chooses the profile (explicit_name when not empty; explicit_source says where it came from,
// e.g. "--profile") and loads it. Throws std::system_error(client_errc::invalid_configuration) on
// a malformed or unreadable file and on an unknown profile (other than "default").
profile_settings load_profile(std::string_view explicit_name, std::string_view explicit_source, const env_lookup& env);

// The `endpoint_url` of the profile's "services = NAME" section for `service` ("iot"), or null when
// the profile has no services setting or the section nothing for the service. A services setting
// naming a missing [services NAME] section throws (client_errc::invalid_configuration).
const ini_value* services_endpoint_url(const profile_settings& p, std::string_view service);

// Checked values of profile settings. A malformed value throws std::system_error
// (client_errc::invalid_configuration) naming the profile, the file, the line and the key.
// Booleans: true / false in any case. Not for credential keys (their values would be echoed).
bool profile_bool(const profile_settings& p, std::string_view key, const ini_value& v);
unsigned profile_positive(const profile_settings& p, std::string_view key, const ini_value& v);
[[noreturn]] void throw_profile_error(const profile_settings& p, std::string_view key, const ini_value& v,
                                      std::string_view problem);

}  // namespace iotjobs::detail
