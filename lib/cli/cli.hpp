// The `iotjobs` command line: AWS CLI v2 option names, messages and exit codes.
//
// The program is a pipeline of testable steps; only the last one touches the network:
//
//   parse_command_line(args)            -> command_line | failure(252)      pure
//   to_global_options / make_*_request  -> values checked                   pure (252)
//   resolve_configuration(globals, env) -> resolved_configuration | failure pure (253)
//   run_delete_job_execution(...)       -> exit code                        client + io_context
//
// run_cli() chains them. Every command has a command_spec with its own options and reuses the
// global options and the configuration. bulk-delete and purge (many deletes, a report, progress)
// live in bulk.cpp; their pure parts are declared in cli/bulk.hpp.
#pragma once

#include <iotjobs/config.hpp>
#include <iotjobs/delete_job_execution.hpp>
#include <iotjobs/diagnostics.hpp>
#include <iotjobs/error.hpp>

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace iotjobs::cli {

// Exit codes of the AWS CLI v2 (and 130 on SIGINT).
inline constexpr int exit_success = 0;
inline constexpr int exit_interrupted = 130;
inline constexpr int exit_usage = 252;    // invalid arguments or parameter validation; nothing sent
inline constexpr int exit_config = 253;   // configuration: region, credentials, malformed settings
inline constexpr int exit_service = 254;  // the service answered with an error
inline constexpr int exit_other = 255;    // anything else: transport, TLS, bad responses

// Environment variables, injectable so that tests do not depend on the host's AWS_* variables.
using environment = std::map<std::string, std::string, std::less<>>;
// A copy of the process environment (environ).
environment process_environment();

// Why the program stops early: the exit code and the text for stderr (without the usage block).
struct failure {
    int exit_code = exit_usage;
    std::string message;
    bool show_usage = false;  // print the short usage block before the message (argument errors)
};

// ---------------------------------------------------------------------------------------------
// Argument parsing (argparse-like, as the AWS CLI): "--name value" and "--name=value"; a value
// may be a negative number ("--execution-number -1") but not another option; boolean options
// come in pairs (--force / --no-force) writing one destination, the last one wins; a value option
// given twice is an error (the AWS CLI silently keeps the last one; for deletes we refuse to guess);
// no abbreviated option names. A value_list option may be given several times (its values are
// kept in order, in parsed_options::lists).

enum class option_kind { value, flag_true, flag_false, value_list };

struct option_spec {
    std::string_view name;  // "--thing-name"
    std::string_view dest;  // key in parsed_options: "thing-name"; --force and --no-force share "force"
    option_kind kind = option_kind::value;
    bool required = false;
    std::string_view metavar;  // "<value>" in help
    std::string_view help;
};

// An option table written as text, one entry per option:
//   --name [<metavar>] [required] [list] [false:DEST]
//       help, on as many indented lines as it takes (joined with single spaces)
// With a metavar the option takes a value ([list]: it may be repeated, the values kept in order);
// without one it is a flag that sets its dest (the name without "--") to true, or DEST to false.
// The specs' names and metavars point into the texts, which must outlive the table. A table that
// breaks these rules is a bug: the constructor throws std::logic_error naming the option.
class option_table {
public:
    option_table(std::initializer_list<std::string_view> texts);
    option_table(const option_table&) = delete;  // the specs point into helps_
    option_table& operator=(const option_table&) = delete;
    std::span<const option_spec> specs() const noexcept { return specs_; }

private:
    void parse(std::string_view text);
    void add_option(std::string_view line);
    void add_help(std::string_view words);
    [[noreturn]] static void bad(std::string_view option, const std::string& what);

    std::deque<std::string> helps_;  // the specs' help texts (a deque keeps earlier ones in place)
    std::vector<option_spec> specs_;
};

struct parsed_options {
    std::map<std::string, std::string, std::less<>> values;              // value options, by dest
    std::map<std::string, bool, std::less<>> flags;                      // boolean options, by dest (last wins)
    std::map<std::string, std::vector<std::string>, std::less<>> lists;  // value_list options, by dest

    const std::string* value(std::string_view dest) const;
    // A value_list option's values in command-line order; empty when not given.
    const std::vector<std::string>& list(std::string_view dest) const;
    std::optional<bool> flag(std::string_view dest) const;
};

struct command_context;

struct command_spec {
    std::string_view name;     // "delete-job-execution"
    std::string_view summary;  // one line for the command list
    std::string_view description;
    std::span<const option_spec> options;
    // Runs the command once the command line and the global options are known; returns the exit code.
    int (*run)(const command_context&) = nullptr;
    // Optional help sections, preformatted (printed as they are, after GLOBAL OPTIONS).
    std::string_view details;
    // The EXIT CODES section of the command's help; empty: the single-call one.
    std::string_view exit_codes;
    // The global --region and --profile may be given several times (purge's fan-out); their
    // values, in order, are in the globals' lists (the first one also in values).
    bool repeatable_region_profile = false;
};

// Options every command takes (--region, --endpoint-url, --debug, ...).
std::span<const option_spec> global_option_specs();
// The commands, in help order.
std::span<const command_spec> command_specs();
const command_spec* find_command(std::string_view name);

enum class action { run, help, command_help, version };

struct command_line {
    action what = action::run;
    const command_spec* command = nullptr;  // null for help/version without a command
    parsed_options globals;
    parsed_options options;  // the command's own options
};

// Parses argv[1..]. Help (--help, -h, "help") and --version win over every other problem.
std::variant<command_line, failure> parse_command_line(std::span<const std::string> args);

// ---------------------------------------------------------------------------------------------
// Global options, checked (252 on malformed values).

enum class output_format { json, text, table };

struct global_options {
    std::optional<std::string> region;
    std::optional<std::string> endpoint_url;
    std::optional<std::string> ca_bundle;
    std::optional<std::string> profile;
    std::optional<unsigned> max_attempts;
    std::optional<unsigned> connect_timeout_seconds;  // 0: no timeout
    std::optional<unsigned> read_timeout_seconds;     // 0: no timeout
    output_format output = output_format::json;
    bool debug = false;
    bool no_verify_ssl = false;
    bool no_paginate = false;  // --no-paginate: list commands make one call (the AWS CLI's global option)
    // Where `profile` and `region` came from, for messages ("--profile"; a bulk input's column).
    std::string profile_source = "--profile";
    std::string region_source = "--region";
};

std::variant<global_options, failure> to_global_options(const parsed_options& globals);

// DeleteJobExecution parameters from the command's options, validated against the model
// (252, "Parameter validation failed: ..." naming the field and the option).
std::variant<delete_job_execution_request, failure> make_delete_job_execution_request(const parsed_options& opts);

// ---------------------------------------------------------------------------------------------
// Configuration (253 on problems), from the options, the environment and the profile of the shared
// config files (endpoint/profile.hpp), whose paths and HOME also come from `env` only. The values
// and their sources come from the settings resolver (endpoint/resolve.hpp); this layer formats
// them into `sources` (the --debug lines) and its messages.
//   profile:     --profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default" (a named profile that
//                neither file has, a malformed file or a malformed profile value: 253)
//   region:      --region, AWS_REGION, AWS_DEFAULT_REGION, profile region
//   endpoint:    --endpoint-url, AWS_ENDPOINT_URL_IOT, AWS_ENDPOINT_URL, the profile's
//                [services NAME] iot endpoint_url, profile endpoint_url (all but the option ignored
//                when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true, else the profile's
//                ignore_configured_endpoint_urls = true)
//   credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or AWS_SECURITY_TOKEN),
//                then the profile's aws_access_key_id / aws_secret_access_key / aws_session_token
//                (credentials file, else config file); with --profile only the profile's
//   CA bundle:   --ca-bundle, AWS_CA_BUNDLE, profile ca_bundle (the file must be readable)
//   retries:     --max-attempts, AWS_MAX_ATTEMPTS, profile max_attempts; AWS_RETRY_MODE, profile
//                retry_mode (standard | adaptive | legacy)
//   timeouts:    --cli-connect-timeout, --cli-read-timeout (AWS CLI defaults: 60 s each)

struct resolved_configuration {
    client_config config;              // no log sink yet
    std::string display_endpoint;      // the endpoint URL for messages, without a trailing '/'
    std::vector<std::string> sources;  // "region: us-east-1 (from AWS_REGION)", ... for --debug
};

std::variant<resolved_configuration, failure> resolve_configuration(const global_options& g, const environment& env);

// The reason part of a parse_endpoint_url message ("the host is missing").
std::string endpoint_problem(std::string_view what);

// ---------------------------------------------------------------------------------------------
// Results and messages.

// What a finished call left behind (copied out of iotjobs::diagnostics).
struct call_outcome {
    error_code ec;
    std::string aws_error_name;
    std::string message;
    std::string request_id;
    unsigned http_status = 0;
    unsigned attempts = 0;
    timeout_phase timeout = timeout_phase::none;  // which wait timed out (diagnostics::timeout_phase())
    bool interrupted = false;                     // SIGINT arrived while the call was running
};

call_outcome make_outcome(const error_code& ec, const diagnostics& diag);

// The exit code and the stderr text for a finished call:
//   service error      -> 254 "An error occurred (Name) when calling the Op operation: message"
//                         (Name is the HTTP status when the service gave no error name)
//   transport / TLS    -> 255 "Could not connect to the endpoint URL: \"url\"" and friends
//   configuration      -> 253, validation -> 252, SIGINT -> 130, success -> 0 and no text.
// `url` is the request URL for transport messages; `max_attempts` adds AWS's
// "(reached max retries: N)" when a retryable error used them all.
failure describe_outcome(const call_outcome& outcome, std::string_view operation, std::string_view url,
                         unsigned max_attempts);

// The request URL as the AWS CLI prints it: endpoint + path (+ "?query").
std::string request_url(std::string_view endpoint, const delete_job_execution_request& req);

// ---------------------------------------------------------------------------------------------
// --debug output. Every line goes through redact(): the secret key, the session token (raw and
// percent-encoded), Authorization values, X-Amz-Security-Token values, Signature= values and
// anything labelled as a signing key are replaced with "<redacted>".

std::string redact(std::string_view text, std::span<const std::string> secrets);

// Writes "<timestamp> iotjobs.<component> DEBUG - <text>\n" (text redacted) to `err`.
class debug_log {
public:
    debug_log(std::ostream& err, bool enabled, std::vector<std::string> secrets = {});
    bool enabled() const noexcept { return enabled_; }
    // Adds a value that must never appear in the output (empty values are ignored).
    void add_secret(std::string secret) {
        if (!secret.empty()) secrets_.push_back(std::move(secret));
    }
    void write(std::string_view component, std::string_view text);
    void write(std::string_view component, std::string_view level, std::string_view text);
    // A sink for client_config::log.
    std::function<void(log_level, std::string_view)> sink(std::string component);
    // A sink for client_config::structured_log: a record about a request starts with its item,
    // "DeleteJobExecution thing=T job=J execution=N: <message>", so that the interleaved lines of
    // a concurrent run can be told apart. Records of another component than "client" are written
    // as "<component>.<record's component>".
    std::function<void(const log_record&)> record_sink(std::string component);

private:
    std::ostream* err_;
    bool enabled_;
    std::vector<std::string> secrets_;
};

// ---------------------------------------------------------------------------------------------
// Running.

struct bulk_settings;  // cli/bulk.hpp

struct run_options {
    bool handle_sigint = true;  // SIGINT cancels the call and the exit code is 130
    // Called after every check passed, just before a client is built and anything is sent. If it
    // returns an exit code, the program stops there with it (tests: prove that bad input never gets
    // this far, and see what a good one would send, without a network).
    std::function<std::optional<int>(const resolved_configuration&, const delete_job_execution_request&)> before_call;
    // bulk-delete and purge: as before_call, once the settings and the configuration are checked
    // (nothing opened, nothing sent yet).
    std::function<std::optional<int>(const resolved_configuration&, const bulk_settings&)> before_bulk;
    // bulk-delete and purge: the live progress line on `err`. nullopt: only when `err` is the
    // process's std::cerr and file descriptor 2 is a terminal.
    std::optional<bool> progress;
    // bulk-delete --input -: the stream to read; null: the process's standard input.
    std::istream* standard_input = nullptr;
};

// What a command's run function gets.
struct command_context {
    const command_line& cl;
    const global_options& globals;
    const environment& env;
    debug_log& log;
    std::ostream& out;
    std::ostream& err;
    const run_options& ro;
};

// Prints a failure as the AWS CLI does: the usage block and "iotjobs: error: ..." for argument
// errors, otherwise a blank line and the message.
void print_failure(std::ostream& err, const failure& f);

// The configuration step every command shares: resolves it (253 on failure, printed), registers
// its secrets with the debug log and logs where each setting came from. Returns the exit code on
// failure.
std::variant<resolved_configuration, int> configure_command(const command_context& ctx);

// The steps every command takes: the argument failure printed (its exit code), else the
// configuration (253 on failure), else run(configuration, parsed arguments).
template <class Parsed, class Run>
int configure_and_run(const command_context& ctx, const std::variant<Parsed, failure>& parsed, Run run) {
    if (auto* f = std::get_if<failure>(&parsed)) {
        print_failure(ctx.err, *f);
        return f->exit_code;
    }
    auto rc = configure_command(ctx);
    if (auto* code = std::get_if<int>(&rc)) return *code;
    return run(std::get<resolved_configuration>(rc), std::get<Parsed>(parsed));
}

// The delete-job-execution command: parameters (252), configuration (253), then the call.
int delete_job_execution_command(const command_context& ctx);

// Why the client's constructor threw, as the CLI reports it: 253 for configuration problems
// (no region, a CA bundle that cannot be loaded, ...), 255 otherwise.
failure client_construction_failure(const std::exception& e, const resolved_configuration& rc, debug_log& log);

// The client settings of a command: the resolved configuration, with the debug log as the client's
// structured log when --debug is on; warns on `err` when the peer is not verified.
client_config command_client_config(const resolved_configuration& rc, debug_log& log, std::ostream& err);

// bulk-delete and purge (bulk.cpp).
int bulk_delete_command(const command_context& ctx);
int purge_command(const command_context& ctx);

// The read commands and cancel (read_commands.cpp): list-job-executions-for-job,
// list-job-executions-for-thing, describe-job-execution, cancel-job-execution. Output as the
// AWS CLI prints the response (--output json|text|table); exit codes as delete-job-execution.
int list_job_executions_for_job_command(const command_context& ctx);
int list_job_executions_for_thing_command(const command_context& ctx);
int describe_job_execution_command(const command_context& ctx);
int cancel_job_execution_command(const command_context& ctx);

// The bash completion script for the commands and options of command_specs() (completion.cpp);
// `iotjobs --completion bash` prints it. tools/iotjobs/completion.bash is a copy, checked by a test.
std::string completion_script();

// Builds the client on a fresh io_context, runs one DeleteJobExecution and returns the exit code
// (messages to `err`; nothing on stdout on success, as the AWS CLI).
int run_delete_job_execution(const resolved_configuration& cfg, const delete_job_execution_request& req, debug_log& log,
                             std::ostream& out, std::ostream& err, const run_options& ro = {});

// The whole program. `args` are the arguments after the program name (argv[1..]).
int run_cli(std::span<const std::string> args, const environment& env, std::ostream& out, std::ostream& err,
            const run_options& ro = {});
int run_cli(int argc, char** argv, const environment& env, std::ostream& out, std::ostream& err);  // argv[0] skipped
// As above with the process environment (what main() calls).
int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err);

// Texts.
std::string usage_text();                                // the short block shown on argument errors
std::string help_text();                                 // iotjobs --help
std::string command_help_text(const command_spec& cmd);  // iotjobs <command> help
std::string version_text();                              // iotjobs --version

}  // namespace iotjobs::cli
