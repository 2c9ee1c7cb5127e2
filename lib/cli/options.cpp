// Argument parsing of the iotjobs CLI: option tables, the argparse-like scanner, global options and
// the DeleteJobExecution parameters. Pure: no environment, no I/O.
#include "cli/cli.hpp"

#include "http/url.hpp"
#include "jobs/wire.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <deque>
#include <initializer_list>
#include <stdexcept>

namespace iotjobs::cli {

option_table::option_table(std::initializer_list<std::string_view> texts) {
    for (std::string_view text : texts) parse(text);
}

void option_table::parse(std::string_view text) {
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (line.starts_with("--"))
            add_option(line);
        else if (!line.empty() && detail::is_blank(line.front()) && !specs_.empty())
            add_help(detail::trim_if(line, detail::is_blank));
        else if (!line.empty())
            throw std::logic_error("option table: unexpected line \"" + std::string(line) + "\"");
    }
    if (specs_.empty() || specs_.back().help.empty()) throw std::logic_error("option table: an option has no help");
}

void option_table::add_option(std::string_view line) {
    if (!specs_.empty() && specs_.back().help.empty()) bad(specs_.back().name, "has no help");
    option_spec o;
    o.name = line.substr(0, line.find(' '));
    o.dest = o.name.substr(2);
    o.kind = option_kind::flag_true;
    bool list = false;
    for (std::string_view rest = line.substr(o.name.size()); !rest.empty();) {
        rest = detail::trim_if(rest, detail::is_blank);
        const std::string_view word = rest.substr(0, rest.find(' '));
        rest.remove_prefix(word.size());
        if (word.starts_with('<') && word.ends_with('>')) {
            o.metavar = word;
        } else if (word == "[required]") {
            o.required = true;
        } else if (word == "[list]") {
            list = true;
        } else if (word.starts_with("[false:") && word.ends_with(']') && word.size() > 8) {
            o.dest = word.substr(7, word.size() - 8);
            o.kind = option_kind::flag_false;
        } else if (!word.empty()) {
            bad(o.name, "has an unknown attribute " + std::string(word));
        }
    }
    if (!o.metavar.empty()) {
        if (o.kind == option_kind::flag_false) bad(o.name, "is [false:...] with a <metavar>");
        o.kind = list ? option_kind::value_list : option_kind::value;
    } else if (list) {
        bad(o.name, "is a [list] without a <metavar>");
    }
    helps_.emplace_back();
    specs_.push_back(o);
}

void option_table::add_help(std::string_view words) {
    std::string& help = helps_.back();
    if (!help.empty()) help += ' ';
    help += words;
    specs_.back().help = help;  // the deque keeps earlier strings in place
}

void option_table::bad(std::string_view option, const std::string& what) {
    throw std::logic_error("option table: " + std::string(option) + " " + what);
}

namespace {

// Global options, as the AWS CLI spells them. --no-cli-pager is accepted and does nothing (no pager).
constexpr std::string_view global_option_text = R"(
--debug
    Log each step to stderr: configuration sources, endpoint, canonical request, string to sign, response
    status, request id, attempts. Secrets are never printed.
--endpoint-url <url>
    Use this endpoint (https://host[:port] or http://host[:port]) instead of the default.
--no-verify-ssl
    Do not verify the server's TLS certificate or host name (tests only).
--no-cli-pager
    Accepted for compatibility; iotjobs never uses a pager.
--output <json|text|table>
    Output format: json (default; the response as the AWS CLI prints it), text (tab-separated values, as the
    AWS CLI's text output) or table (a boxed table). bulk-delete and purge: json adds a JSON summary object
    on stdout (on stderr when --report - writes the report to stdout).
--no-paginate
    List commands: make one call only (as given by --max-results / --next-token) instead of fetching every
    page.
--profile <name>
    Named profile of the shared config files (~/.aws/config, ~/.aws/credentials).
--region <region>
    AWS region, e.g. us-east-1 (else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region).
--ca-bundle <file>
    PEM CA bundle to verify the server with (else AWS_CA_BUNDLE, else the system store).
--cli-read-timeout <seconds>
    Maximum time for one request/response exchange; 0 waits forever. Default 60.
--cli-connect-timeout <seconds>
    Maximum time to connect (and complete the TLS handshake); 0 waits forever. Default 60.
--max-attempts <n>
    Total attempts per request, the first included (else AWS_MAX_ATTEMPTS, else 3).
)";

// In the model's member order (jobId, thingName, executionNumber, force, namespaceId), as the AWS
// CLI lists them in help and in "the following arguments are required".
constexpr std::string_view delete_job_execution_option_text = R"(
--job-id <value> [required]
    The ID of the job whose execution on a particular device will be deleted (1-64 characters of
    [a-zA-Z0-9_-]).
--thing-name <value> [required]
    The name of the thing whose job execution will be deleted (1-128 characters of [a-zA-Z0-9:_-]).
--execution-number <value> [required]
    The ID of the job execution to be deleted: a signed 64-bit decimal integer.
--force
    Allow an execution in the IN_PROGRESS state to be deleted (sent as force=true).
--no-force [false:force]
    Send force=false: only terminal executions may be deleted (the service's default).
--namespace-id <value>
    The namespace used to indicate that a job is a customer-managed job ([a-zA-Z0-9_-]+).
)";

// bulk-delete and purge share most options; each table is in help order.
constexpr std::string_view bulk_common_option_text = R"(
--concurrency <n>
    Requests in flight at once, 1-1024 (also the connection pool's size). Default 16.
--rate <tps>
    Send at most this many requests per second, evenly paced. Default 0: no fixed rate, the adaptive rate
    limiter (AWS SDK adaptive mode) backs off when the service throttles.
--force
    Send force=true for items that do not say: IN_PROGRESS executions may be deleted.
--no-force [false:force]
    Send force=false for items that do not say (only terminal executions may be deleted).
--namespace-id <value>
    The namespace (customer-managed jobs, [a-zA-Z0-9_-]+) for items that do not say.
--report <file>
    Write one JSON line per item with its outcome to this file (created or truncated), as outcomes arrive; -
    writes them to standard output. Without it only the summary is printed.
)";

constexpr std::string_view bulk_delete_head_option_text = R"(
--input <file|-> [required]
    The executions to delete: a CSV file with a header row or a JSON Lines file; - reads standard input.
--format <csv|jsonl>
    The input's format. Default: JSON Lines if the first non-blank character is '{', else CSV.
)";

constexpr std::string_view bulk_delete_tail_option_text = R"(
--skip-done <report> [list]
    Resume: skip the items this earlier report shows as deleted or not_found (not sent again); their earlier
    lines are carried into the new report ("carried":true). May be given several times. Must not be the
    --report file.
--dry-run
    Delete nothing: look each valid item up (DescribeJobExecution, at --concurrency) and report its status
    and the predicted outcome (deleted, refused, not_found).
)";

constexpr std::string_view purge_head_option_text = R"(
--regions <r1,r2,...> [list]
    Fan out: purge in each of these regions (comma-separated; may be given several times; --region may also
    be repeated). Each (profile, region) has its own client, connection pool and rate limiter; --concurrency
    and --rate apply to each.
--profiles <p1,p2,...> [list]
    Fan out: purge with each of these profiles (accounts), in every region given (comma-separated; may be
    given several times; --profile may also be repeated).
--job-id <value>
    Delete the executions of this job (ListJobExecutionsForJob). Give --job-id or --thing-name.
--thing-name <value>
    Delete the job executions of this thing (ListJobExecutionsForThing).
--status <S[,S...]>
    Only executions in these statuses: QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED,
    CANCELED (comma-separated). Default: every status.
)";

constexpr std::string_view purge_tail_option_text = R"(
--dry-run
    List, delete nothing; the report gives each execution's status and the predicted outcome (deleted, or
    refused: QUEUED / IN_PROGRESS without --force). The List calls are sent.
)";

constexpr std::string_view bulk_exit_codes =
    "EXIT CODES\n"
    "  0    every item ended deleted or not_found (already gone), items carried by\n"
    "       --skip-done included; purge: and its verification found none of the\n"
    "       executions it was asked to delete still listed. --dry-run: every item\n"
    "       would be deleted or is already gone.\n"
    "  130  interrupted (SIGINT): the requests in flight were finished (or aborted by\n"
    "       a second SIGINT), the other items are reported not_attempted\n"
    "  252  invalid arguments; an --input or --skip-done file that cannot be read; an\n"
    "       input that cannot be used at all (a bad CSV header, or not one valid\n"
    "       line): nothing was sent\n"
    "  253  configuration problem (no region, no credentials, malformed settings)\n"
    "  254  not every item was deleted: some were refused, failed, not attempted or\n"
    "       invalid input lines (a valid item was found); purge: some executions are\n"
    "       still listed after the run; --dry-run: some would be refused or could not\n"
    "       be looked up; or the run stopped early on an error that would fail every\n"
    "       item, or (purge) the service refused the listing, e.g. the job does not\n"
    "       exist; printed as the AWS CLI prints it:\n"
    "       An error occurred (InvalidSignatureException) when calling the\n"
    "       DeleteJobExecution operation: ...\n"
    "  255  anything else: the --report file cannot be created or written (the run\n"
    "       stops), the input cannot be read to the end, (purge) a listing failed\n"
    "       on the network, or the verification's listing failed\n";

constexpr std::string_view bulk_delete_details =
    "INPUT\n"
    "  CSV with a header row naming the columns, in any order: thingName, jobId,\n"
    "  executionNumber, and optionally force (true/false/1/0/yes/no/empty) and\n"
    "  namespaceId (empty: none). Or JSON Lines with the same members (force a\n"
    "  boolean). Blank lines are skipped; a UTF-8 BOM is ignored.\n"
    "\n"
    "    thingName,jobId,executionNumber,force\n"
    "    sensor-1,firmware-42,1,\n"
    "    sensor-2,firmware-42,3,true\n"
    "\n"
    "    {\"thingName\":\"sensor-1\",\"jobId\":\"firmware-42\",\"executionNumber\":1}\n"
    "\n"
    "  A line that cannot be used (bad JSON, a missing field, a name the model\n"
    "  refuses, ...) is reported with its line number as invalid_input and the run\n"
    "  goes on. An item's own force / namespaceId win over --force / --namespace-id.\n"
    "  A report can be the input: its invalid_input lines are invalid input again\n"
    "  (never requests; their original input is kept), its purge verification lines\n"
    "  (member verify) are skipped, other members (outcome, status, ...) ignored.\n"
    "\n"
    "FAN-OUT\n"
    "  Optional region and profile columns (JSON Lines: members) send each item\n"
    "  through the client of that (profile, region); empty: the configured ones.\n"
    "  Each pair has its own credentials, endpoint, connection pool and adaptive\n"
    "  rate limiter, made when its first item comes; --concurrency and --rate\n"
    "  apply to each pair. Report lines then carry profile and region, and the\n"
    "  progress line and the summary give the counts of each pair.\n"
    "\n"
    "OUTCOMES\n"
    "  deleted        the service deleted it\n"
    "  not_found      it did not exist (ResourceNotFoundException): already gone\n"
    "  refused        the service refused it, e.g. InvalidStateTransitionException\n"
    "                 (IN_PROGRESS or QUEUED without --force)\n"
    "  failed         failed after retries (throttling, 5xx, network), or aborted\n"
    "  not_attempted  the run stopped before sending it, or --dry-run\n"
    "  invalid_input  the input line cannot be used; nothing sent\n"
    "  The run stops early on errors that would fail every item (unknown access\n"
    "  key, invalid signature, expired token, access denied): the items not sent\n"
    "  yet are reported not_attempted.\n"
    "\n"
    "REPORT (--report FILE)\n"
    "  JSON Lines, one line per item, in the order outcomes arrive, written as they\n"
    "  arrive (flushed four times a second and at the end):\n"
    "\n"
    "    {\"line\":2,\"thingName\":\"sensor-1\",\"jobId\":\"firmware-42\",\n"
    "     \"executionNumber\":1,\"outcome\":\"deleted\",\"attempts\":1}\n"
    "\n"
    "  Members: line (of the input), thingName, jobId, executionNumber, force and\n"
    "  namespaceId (when set), status (the execution's status when known: listed by\n"
    "  purge, looked up by --dry-run), outcome, predicted (--dry-run), error (the AWS\n"
    "  error name or the error, when not deleted), message, attempts, requestId\n"
    "  (x-amzn-RequestId of the last response, when the service answered),\n"
    "  possiblyDeletedEarlier (not_found after a retry of an attempt that may have\n"
    "  succeeded), carried (true: the line of an earlier report, see RESUMING).\n"
    "  An invalid_input line has no thingName, jobId or executionNumber; its input\n"
    "  member is the input line, whole (up to 64 KiB):\n"
    "\n"
    "    {\"line\":9,\"outcome\":\"invalid_input\",\"error\":\"...\",\n"
    "     \"message\":\"line 9: executionNumber is missing\",\"attempts\":0,\n"
    "     \"input\":\"{\\\"thingName\\\":\\\"sensor-9\\\",\\\"jobId\\\":\\\"firmware-42\\\"}\"}\n"
    "\n"
    "  A report is valid JSON Lines input (see INPUT). The file is created or\n"
    "  truncated; it may not be the --input or a --skip-done file. Without --report\n"
    "  nothing is written per item: the summary lists the first few problems only.\n"
    "\n"
    "DRY RUN (--dry-run)\n"
    "  Nothing is deleted. Each valid item is looked up with DescribeJobExecution\n"
    "  (--concurrency at a time) and reported with outcome not_attempted, its\n"
    "  status and predicted: deleted (a terminal status, or QUEUED / IN_PROGRESS\n"
    "  with force), refused (QUEUED / IN_PROGRESS without force) or not_found; no\n"
    "  predicted member when the lookup failed (error says why). The summary counts the items by predicted outcome. "
    "Exit 0 when every\n"
    "  item would be deleted or is not found, 254 otherwise. DescribeJobExecution\n"
    "  takes no namespace: an item whose namespaceId is wrong is predicted from its\n"
    "  status, and the real run finds it not_found.\n"
    "\n"
    "RESUMING (--skip-done REPORT, may be repeated)\n"
    "  Only deleted and not_found count as done. The items a REPORT shows as done\n"
    "  are skipped: not sent again; their earlier lines (outcome, error, message,\n"
    "  attempts) are written to the new report with \"carried\":true, so the newest\n"
    "  report is a complete record of the input, and the summary counts them.\n"
    "  refused, failed, not_attempted and invalid_input items are tried again.\n"
    "  Write the new report to another file:\n"
    "\n"
    "    iotjobs bulk-delete --input items.csv --report run1.jsonl\n"
    "    iotjobs bulk-delete --input items.csv --skip-done run1.jsonl --report run2.jsonl\n"
    "    iotjobs bulk-delete --input items.csv --skip-done run2.jsonl --report run3.jsonl\n"
    "\n"
    "  (run2.jsonl already carries what run1.jsonl had done; giving both,\n"
    "  --skip-done run1.jsonl --skip-done run2.jsonl, is the same.) The --skip-done\n"
    "  files are read again during the run (one short read per skipped item): leave\n"
    "  them in place until it ends.\n"
    "\n"
    "PROGRESS AND SUMMARY\n"
    "  When stderr is a terminal (and without --debug), a line on stderr refreshed\n"
    "  four times a second: done/total (total when --input is a regular file), the\n"
    "  rate over the last 5 seconds, the ETA, throttled responses, retries and\n"
    "  failures. Nothing of the kind when stderr is not a terminal. A summary is\n"
    "  always printed on stderr at the end: each outcome's count, items skipped,\n"
    "  seconds, rate, requests, and why the run stopped early if it did.\n"
    "  With --output json (the default) a JSON summary follows, one line, on\n"
    "  stdout -- or on stderr, after the human summary, when --report - writes the\n"
    "  report to stdout (stdout then holds the report's JSON Lines only):\n"
    "\n"
    "    {\"command\":\"bulk-delete\",\"items\":25,\"outcomes\":{\"deleted\":20,\n"
    "     \"not_found\":1,\"refused\":1,\"failed\":0,\"not_attempted\":0,\n"
    "     \"invalid_input\":3},\"possiblyDeletedEarlier\":0,\"skipped\":0,\n"
    "     \"stoppedEarly\":false,\"stopReason\":null,\"report\":\"r.jsonl\",\n"
    "     \"seconds\":0.41,\"requests\":22,\"retries\":0,\"throttled\":0,\n"
    "     \"exitCode\":254}\n"
    "\n"
    "  plus \"dryRun\" (counts by predicted outcome) for dry runs and, for purge,\n"
    "  \"verification\" ({\"verified\",\"remaining\",\"error\"}). --output text or\n"
    "  table: the human summary only; nothing on stdout but a --report - report.\n"
    "  With --debug, one line per outcome names its item (line or listing\n"
    "  position, thing, job, execution number), the outcome and the request id.\n"
    "\n"
    "INTERRUPTING\n"
    "  Ctrl-C (SIGINT) stops taking new items, lets the requests in flight finish,\n"
    "  reports the remaining items as not_attempted, writes the report and exits\n"
    "  130. A second Ctrl-C aborts the requests in flight (reported failed: the\n"
    "  service may have processed them); a third exits at once.\n"
    "\n"
    "EXAMPLES\n"
    "    iotjobs bulk-delete --input executions.csv --report report.jsonl\n"
    "    producer | iotjobs bulk-delete --input - --format jsonl --force --rate 200\n"
    "\n";

constexpr std::string_view purge_details =
    "LISTING\n"
    "  The executions are listed with ListJobExecutionsForJob (--job-id) or\n"
    "  ListJobExecutionsForThing (--thing-name, filtered by --namespace-id when\n"
    "  given), one pass per status of --status (every status by default), 250 per\n"
    "  page, and deleted while the listing goes on. Without --force the service\n"
    "  refuses to delete QUEUED and IN_PROGRESS executions (outcome refused, exit\n"
    "  254): use --status to leave them alone, or --force to delete them too.\n"
    "  The total is not known in advance: the progress line shows the count done.\n"
    "  When the run stops early (SIGINT, a fatal error), the executions listed but\n"
    "  not sent are reported not_attempted; those not listed yet are not in the\n"
    "  report: run the purge again.\n"
    "\n"
    "FAN-OUT\n"
    "  With several --region or --profile values (repeated, or --regions and\n"
    "  --profiles lists), every profile is purged in every region at once, each\n"
    "  (profile, region) with its own client, listing, connection pool and\n"
    "  adaptive rate limiter; --concurrency and --rate apply to each pair. Report\n"
    "  lines carry profile and region; the summary gives the counts of each pair.\n"
    "\n"
    "VERIFICATION\n"
    "  At the end of a run (not a dry run, not stopped early) purge lists again\n"
    "  what it was asked to purge (the same job or thing, statuses and namespace)\n"
    "  and reports every execution still present, with its status and why: this\n"
    "  run's outcome for it (refused, failed, not_found while still listed -- e.g.\n"
    "  a namespaced execution purged without --namespace-id --, not_attempted,\n"
    "  deleted but still listed) or not_in_run (it appeared after the listing).\n"
    "  The summary says how many remain and lists the first ones; the report gets\n"
    "  one line per execution still present:\n"
    "\n"
    "    {\"verify\":\"still_present\",\"thingName\":\"sensor-1\",\"jobId\":\"fw-42\",\n"
    "     \"executionNumber\":1,\"status\":\"QUEUED\",\"reason\":\"refused\",\n"
    "     \"error\":\"InvalidStateTransitionException\",\"message\":\"...\"}\n"
    "\n"
    "  Exit 0 only when none remains. Fed back as bulk-delete input, verification\n"
    "  lines are skipped.\n"
    "\n"
    "DRY RUN (--dry-run)\n"
    "  Lists, deletes nothing: each execution with its listed status and the\n"
    "  predicted outcome: deleted (a terminal status, or QUEUED / IN_PROGRESS with\n"
    "  --force) or refused (QUEUED / IN_PROGRESS without --force). The summary\n"
    "  counts them by predicted outcome; exit 254 when some would be refused.\n"
    "  The listing does not tell whether an execution belongs to a namespace: one\n"
    "  purged without the right --namespace-id is predicted deleted, and the real\n"
    "  run finds it not_found (the verification then reports it).\n"
    "\n"
    "OUTCOMES, REPORT, PROGRESS AND SUMMARY, INTERRUPTING\n"
    "  As bulk-delete (iotjobs bulk-delete help). The report's line member is the\n"
    "  item's position in the listing. A second run of the same purge resumes by\n"
    "  itself: deleted executions are no longer listed. --skip-done is not\n"
    "  accepted (nothing to skip: the listing is the record).\n"
    "\n"
    "EXAMPLES\n"
    "    iotjobs purge --job-id firmware-42 --status SUCCEEDED,FAILED,CANCELED\n"
    "    iotjobs purge --job-id firmware-42 --force --concurrency 32 --report purge.jsonl\n"
    "    iotjobs purge --thing-name sensor-1 --dry-run --report would-delete.jsonl\n"
    "\n";

// The read commands, options in the model's member order, then the AWS CLI's pagination options.
constexpr std::string_view paging_option_text = R"(
--max-results <value>
    The maximum number of results per call (1-250). Giving it (or --next-token) turns automatic pagination
    off: one call, and its nextToken is printed.
--next-token <value>
    The service's token for the next page (one call, as --max-results).
--starting-token <value>
    Where to start: the NextToken printed by an earlier command cut short by --max-items.
--page-size <value>
    Items per call (maxResults, 1-250) while fetching every page; the output is the same.
--max-items <value>
    Print at most this many items, and a NextToken to pass to --starting-token to go on.
)";

constexpr std::string_view list_for_job_option_text = R"(
--job-id <value> [required]
    The unique identifier of the job.
--status <value>
    Only executions in this status: QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED or
    CANCELED.
)";

constexpr std::string_view list_for_thing_option_text = R"(
--thing-name <value> [required]
    The thing name.
--status <value>
    Only executions in this status: QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED or
    CANCELED.
--namespace-id <value>
    The namespace used to indicate that a job is a customer-managed job ([a-zA-Z0-9_-]+).
--job-id <value>
    Only the executions of this job (1-64 characters of [a-zA-Z0-9_-]).
)";

constexpr std::string_view describe_option_text = R"(
--job-id <value> [required]
    The unique identifier of the job.
--thing-name <value> [required]
    The name of the thing on which the job execution is running.
--execution-number <value>
    The execution number (a signed 64-bit integer); without it, the latest execution.
)";

constexpr std::string_view cancel_option_text = R"(
--job-id <value> [required]
    The ID of the job to be canceled.
--thing-name <value> [required]
    The name of the thing whose execution of the job will be canceled.
--force
    Cancel an IN_PROGRESS execution too (sent as force=true).
--no-force [false:force]
    Send force=false: only QUEUED executions may be canceled (the service's default).
--expected-version <value>
    Cancel only if the execution's current version is this one (VersionConflictException otherwise).
--status-details <value>
    Status details, as KeyName1=string,KeyName2=string or a JSON object of strings {"KeyName1":"string"} (at
    most 10).
)";

constexpr std::string_view list_details =
    "PAGINATION\n"
    "  As the AWS CLI: every page is fetched and the summaries are printed as one\n"
    "  list. --max-items N prints at most N and, when more remain, a NextToken;\n"
    "  --starting-token T goes on from there. --page-size sets the calls' maxResults.\n"
    "  --max-results or --next-token (or the global --no-paginate) make exactly one\n"
    "  call and print the service's nextToken.\n"
    "\n"
    "    iotjobs list-job-executions-for-job --job-id fw-42 --max-items 100\n"
    "    iotjobs list-job-executions-for-job --job-id fw-42 --starting-token <NextToken>\n"
    "\n"
    "OUTPUT\n"
    "  json (default) as the AWS CLI v2 prints it, timestamps in ISO 8601 in the\n"
    "  local time zone (its cli_timestamp_format default, iso8601); text and table\n"
    "  as with --output.\n"
    "\n";

const option_table global_specs{global_option_text};
const option_table delete_job_execution_specs{delete_job_execution_option_text};
const option_table bulk_delete_specs{bulk_delete_head_option_text, bulk_common_option_text,
                                     bulk_delete_tail_option_text};
const option_table purge_specs{purge_head_option_text, bulk_common_option_text, purge_tail_option_text};
const option_table list_for_job_specs{list_for_job_option_text, paging_option_text};
const option_table list_for_thing_specs{list_for_thing_option_text, paging_option_text};
const option_table describe_specs{describe_option_text};
const option_table cancel_specs{cancel_option_text};

const std::array commands{
    command_spec{"delete-job-execution",
                 "Delete a job execution (DeleteJobExecution).",
                 "Deletes a job execution of a thing. Only executions in a terminal state (SUCCEEDED, "
                 "FAILED, REJECTED, REMOVED, CANCELED) can be deleted unless --force is given, which also "
                 "allows IN_PROGRESS ones. Prints nothing on success.",
                 delete_job_execution_specs.specs(),
                 &delete_job_execution_command,
                 {},
                 {}},
    command_spec{"bulk-delete", "Delete many job executions listed in a file (CSV or JSON Lines).",
                 "Deletes the job executions listed in a file or on standard input, many at once "
                 "(--concurrency requests in flight) and as fast as the account's quota allows (or at "
                 "--rate). Every item gets exactly one outcome, written to the --report file as it "
                 "arrives; a summary is printed on stderr at the end.",
                 bulk_delete_specs.specs(), &bulk_delete_command, bulk_delete_details, bulk_exit_codes},
    command_spec{"purge", "Delete the executions of a job or of a thing, by status.",
                 "Lists the executions of a job (--job-id) or of a thing (--thing-name), optionally only "
                 "those in the given --status, and deletes them, many at once, as bulk-delete does: "
                 "one outcome per execution in the --report file, a summary on stderr at the end.",
                 purge_specs.specs(), &purge_command, purge_details, bulk_exit_codes, true},
    command_spec{"list-job-executions-for-job",
                 "List the executions of a job (ListJobExecutionsForJob).",
                 "Lists the job executions of a job, optionally only those in one --status. Prints "
                 "{\"executionSummaries\": [{\"thingArn\": ..., \"jobExecutionSummary\": {...}}]} as the AWS CLI.",
                 list_for_job_specs.specs(),
                 &list_job_executions_for_job_command,
                 list_details,
                 {}},
    command_spec{"list-job-executions-for-thing",
                 "List the job executions of a thing (ListJobExecutionsForThing).",
                 "Lists the job executions of a thing, optionally only those in one --status, of one "
                 "--job-id or of a --namespace-id. Prints {\"executionSummaries\": [{\"jobId\": ..., "
                 "\"jobExecutionSummary\": {...}}]} as the AWS CLI.",
                 list_for_thing_specs.specs(),
                 &list_job_executions_for_thing_command,
                 list_details,
                 {}},
    command_spec{"describe-job-execution",
                 "Describe a job execution (DescribeJobExecution).",
                 "Describes a job execution: prints {\"execution\": {...}} as the AWS CLI (timestamps in "
                 "ISO 8601, local time zone).",
                 describe_specs.specs(),
                 &describe_job_execution_command,
                 {},
                 {}},
    command_spec{"cancel-job-execution",
                 "Cancel a job execution (CancelJobExecution).",
                 "Cancels the execution of a job on a thing: QUEUED ones, and IN_PROGRESS ones with --force. "
                 "Prints nothing on success.",
                 cancel_specs.specs(),
                 &cancel_job_execution_command,
                 {},
                 {}},
};

const option_spec* find_spec(std::span<const option_spec> specs, std::string_view name) {
    for (const auto& s : specs)
        if (s.name == name) return &s;
    return nullptr;
}

// argparse: "-1", "-12", "-.5", "-1.5" are negative numbers, i.e. values, not options.
bool is_negative_number(std::string_view s) {
    if (s.size() < 2 || s.front() != '-') return false;
    std::string_view rest = s.substr(1);
    const auto dot = rest.find('.');
    auto all_digits = [](std::string_view t) {
        return std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (dot == std::string_view::npos) return all_digits(rest);
    return all_digits(rest.substr(0, dot)) && dot + 1 < rest.size() && all_digits(rest.substr(dot + 1));
}

// A token that argparse would take as an option rather than as a value.
bool looks_like_option(std::string_view s) { return s.size() > 1 && s.front() == '-' && !is_negative_number(s); }

failure usage_failure(std::string message) { return failure{exit_usage, std::move(message), true}; }

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string s;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) s += sep;
        s += items[i];
    }
    return s;
}

}  // namespace

// `invalid endpoint URL "x": the host is missing` -> "the host is missing".
std::string endpoint_problem(std::string_view what) {
    const auto at = what.find("\": ");
    return std::string(at == std::string_view::npos ? what : what.substr(at + 3));
}

namespace {

bool parse_unsigned(std::string_view text, unsigned& out) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    unsigned v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v, 10);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size()) return false;
    out = v;
    return true;
}

}  // namespace

const std::string* parsed_options::value(std::string_view dest) const {
    auto it = values.find(dest);
    return it == values.end() ? nullptr : &it->second;
}

const std::vector<std::string>& parsed_options::list(std::string_view dest) const {
    static const std::vector<std::string> none;
    auto it = lists.find(dest);
    return it == lists.end() ? none : it->second;
}

std::optional<bool> parsed_options::flag(std::string_view dest) const {
    auto it = flags.find(dest);
    if (it == flags.end()) return std::nullopt;
    return it->second;
}

std::span<const option_spec> global_option_specs() { return global_specs.specs(); }
std::span<const command_spec> command_specs() { return commands; }

const command_spec* find_command(std::string_view name) {
    for (const auto& c : commands)
        if (c.name == name) return &c;
    return nullptr;
}

namespace {

// The argparse-like scan of the arguments: what it found, and the first error (argparse stops there).
struct argument_scan {
    explicit argument_scan(std::span<const std::string> a) : args(a) {}

    std::span<const std::string> args;
    command_line cl;
    bool help = false;
    bool version = false;
    bool only_positionals = false;  // after "--"
    std::optional<std::string> bad_command;
    std::optional<failure> first_error;      // the first scanning error (argparse stops there)
    std::optional<failure> repeated_global;  // --region / --profile twice, before any other error
    std::vector<std::string> unknown;

    void note_error(std::string msg) {
        if (!first_error) first_error = usage_failure(std::move(msg));
    }

    void scan() {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& tok = args[i];
            if (!only_positionals && tok == "--")
                only_positionals = true;
            else if (!only_positionals && (tok == "--help" || tok == "-h"))
                help = true;
            else if (!only_positionals && tok == "--version")
                version = true;
            else if (!only_positionals && tok.size() > 2 && tok.starts_with("--"))
                long_option(i);
            else if (!only_positionals && looks_like_option(tok))
                unknown.push_back(tok);  // no short options
            else
                positional(tok);
        }
    }

    // The --name[=value] option at args[i]; a value may be the next argument (i moves past it).
    void long_option(std::size_t& i) {
        const std::string& tok = args[i];
        const auto eq = tok.find('=');
        const std::string_view name = std::string_view(tok).substr(0, eq);
        const option_spec* spec = find_spec(global_specs.specs(), name);
        parsed_options* into = &cl.globals;
        if (!spec && cl.command) {
            spec = find_spec(cl.command->options, name);
            into = &cl.options;
        }
        if (!spec) {
            unknown.push_back(tok);
            return;
        }
        if (spec->kind != option_kind::value && spec->kind != option_kind::value_list) {
            if (eq != std::string::npos)
                return note_error("argument " + std::string(spec->name) + ": ignored explicit argument " +
                                  detail::quote_for_message(std::string_view(tok).substr(eq + 1)));
            into->flags[std::string(spec->dest)] = spec->kind == option_kind::flag_true;  // last wins
            return;
        }
        std::string value;
        if (eq != std::string::npos)
            value = tok.substr(eq + 1);
        else if (i + 1 < args.size() && !looks_like_option(args[i + 1]))
            value = args[++i];
        else
            return note_error("argument " + std::string(spec->name) + ": expected one argument");
        if (spec->kind == option_kind::value_list) {
            into->lists[std::string(spec->dest)].push_back(std::move(value));
            return;
        }
        const bool region_or_profile = into == &cl.globals && (spec->dest == "region" || spec->dest == "profile");
        if (region_or_profile) into->lists[std::string(spec->dest)].push_back(value);
        auto [it, inserted] = into->values.emplace(std::string(spec->dest), value);
        if (inserted) return;
        failure f = usage_failure("argument " + std::string(spec->name) + ": given more than once (" +
                                  detail::quote_for_message(it->second) + " and " + detail::quote_for_message(value) +
                                  "); give it once");
        if (!region_or_profile) {
            if (!first_error) first_error = std::move(f);
        } else if (!repeated_global && !first_error) {  // allowed by purge only; the command may come later
            repeated_global = std::move(f);
        }
    }

    // The command, "help", or something left over.
    void positional(const std::string& tok) {
        if (!cl.command && !bad_command) {
            if (tok == "help") {
                help = true;
                return;
            }
            cl.command = find_command(tok);
            if (!cl.command) bad_command = tok;
            return;
        }
        if (tok == "help" && !only_positionals)
            help = true;
        else
            unknown.push_back(tok);
    }

    std::variant<command_line, failure> result() {
        if (help) {
            cl.what = cl.command ? action::command_help : action::help;
            return cl;
        }
        if (version) {
            cl.what = action::version;
            return cl;
        }
        if (bad_command) {
            std::string msg = "argument command: Invalid choice, valid choices are:\n\n";
            for (std::size_t i = 0; i < commands.size(); ++i) {
                if (i) msg += " | ";
                msg += commands[i].name;
            }
            msg += "\n\n(got " + detail::quote_for_message(*bad_command) + ")";
            return usage_failure(std::move(msg));
        }
        if (repeated_global && !(cl.command && cl.command->repeatable_region_profile)) return *repeated_global;
        if (first_error) return *first_error;
        if (!cl.command) return usage_failure("the following arguments are required: command");
        std::vector<std::string> missing;
        for (const auto& s : cl.command->options)
            if (s.required && !cl.options.value(s.dest)) missing.emplace_back(s.name);
        if (!missing.empty()) return usage_failure("the following arguments are required: " + join(missing, ", "));
        if (!unknown.empty()) return usage_failure("Unknown options: " + join(unknown, ", "));
        cl.what = action::run;
        return cl;
    }
};

}  // namespace

std::variant<command_line, failure> parse_command_line(std::span<const std::string> args) {
    argument_scan scan(args);
    scan.scan();
    return scan.result();
}

std::variant<global_options, failure> to_global_options(const parsed_options& p) {
    global_options g;
    auto copy = [&](std::string_view dest, std::optional<std::string>& into) {
        if (const std::string* v = p.value(dest)) into = *v;
    };
    copy("region", g.region);
    copy("endpoint-url", g.endpoint_url);
    copy("ca-bundle", g.ca_bundle);
    copy("profile", g.profile);
    g.debug = p.flag("debug").value_or(false);
    g.no_verify_ssl = p.flag("no-verify-ssl").value_or(false);
    g.no_paginate = p.flag("no-paginate").value_or(false);

    if (const std::string* v = p.value("output")) {
        if (*v == "json") {
            g.output = output_format::json;
        } else if (*v == "text") {
            g.output = output_format::text;
        } else if (*v == "table") {
            g.output = output_format::table;
        } else {
            return usage_failure("argument --output: Invalid choice " + detail::quote_for_message(*v) +
                                 ", valid choices are:\n\njson | text | table");
        }
    }
    if (const std::string* v = p.value("max-attempts")) {
        unsigned n = 0;
        if (!parse_unsigned(*v, n) || n == 0)
            return usage_failure("argument --max-attempts: invalid value " + detail::quote_for_message(*v) +
                                 ": must be a whole number of attempts, 1 or more (1 disables retries)");
        g.max_attempts = n;
    }
    auto timeout = [&](std::string_view dest, std::string_view name,
                       std::optional<unsigned>& into) -> std::optional<failure> {
        const std::string* v = p.value(dest);
        if (!v) return std::nullopt;
        unsigned n = 0;
        if (!parse_unsigned(*v, n) || n > 86400 * 365)
            return usage_failure("argument " + std::string(name) + ": invalid int value " +
                                 detail::quote_for_message(*v) +
                                 ": must be a whole number of seconds (0 waits forever)");
        into = n;
        return std::nullopt;
    };
    if (auto f = timeout("cli-connect-timeout", "--cli-connect-timeout", g.connect_timeout_seconds)) return *f;
    if (auto f = timeout("cli-read-timeout", "--cli-read-timeout", g.read_timeout_seconds)) return *f;

    if (g.endpoint_url) {
        // The AWS CLI rejects a malformed --endpoint-url as a bad argument (252); the same
        // text in AWS_ENDPOINT_URL is a configuration problem (253, resolve_configuration).
        detail::endpoint_url parsed;
        std::string what;
        if (detail::parse_endpoint_url(*g.endpoint_url, parsed, &what))
            return failure{exit_usage,
                           "Bad value for --endpoint-url \"" + *g.endpoint_url + "\": " + endpoint_problem(what) +
                               ". Must be of the form http://<hostname>/ or https://<hostname>/",
                           false};
    }
    if (g.region) {
        // botocore's validate_region_name: a host label.
        const std::string& r = *g.region;
        bool ok = !r.empty() && r.size() <= 63 && r.front() != '-' && r.back() != '-';
        for (char c : r)
            ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-');
        if (!ok)
            return failure{exit_usage,
                           "Provided region_name " + detail::quote_for_message(r) +
                               " (--region) doesn't match a supported format.",
                           false};
    }
    return g;
}

namespace {

// "executionNumber '1.5' is invalid: ..." -> "'1.5' is invalid: ..." (the field is named before).
std::string_view drop_field_prefix(std::string_view what, std::string_view field) {
    if (what.size() > field.size() && what.starts_with(field) && what[field.size()] == ' ')
        return what.substr(field.size() + 1);
    return what;
}

void add_problem(std::string& text, std::string_view field, std::string_view option, const error_code& ec,
                 const std::string& what) {
    text += "\nInvalid value for parameter ";
    text += field;
    text += " (";
    text += option;
    text += "): ";
    if (what.empty())
        text += ec.message();
    else
        text += drop_field_prefix(what, field);
}

}  // namespace

std::variant<delete_job_execution_request, failure> make_delete_job_execution_request(const parsed_options& opts) {
    delete_job_execution_request req;
    std::string problems;
    std::string what;

    const std::string* job_id = opts.value("job-id");
    const std::string* thing_name = opts.value("thing-name");
    const std::string* execution_number = opts.value("execution-number");
    if (job_id) req.job_id = *job_id;
    if (thing_name) req.thing_name = *thing_name;
    req.force = opts.flag("force");
    if (const std::string* ns = opts.value("namespace-id")) req.namespace_id = *ns;

    // Model member order, every problem at once (as botocore's "Parameter validation failed").
    what.clear();
    if (auto ec = detail::validate_job_id(req.job_id, &what)) add_problem(problems, "jobId", "--job-id", ec, what);
    what.clear();
    if (auto ec = detail::validate_thing_name(req.thing_name, &what))
        add_problem(problems, "thingName", "--thing-name", ec, what);
    what.clear();
    if (!detail::parse_execution_number(execution_number ? *execution_number : std::string_view{}, req.execution_number,
                                        &what))
        add_problem(problems, "executionNumber", "--execution-number",
                    make_error_code(client_errc::invalid_execution_number), what);
    if (req.namespace_id) {
        what.clear();
        if (auto ec = detail::validate_namespace_id(*req.namespace_id, &what))
            add_problem(problems, "namespaceId", "--namespace-id", ec, what);
    }
    if (problems.empty()) {
        // The library's own check, in case it knows a rule the CLI does not.
        what.clear();
        if (auto ec = validate(req, &what))
            return failure{exit_usage, "Parameter validation failed:\n" + (what.empty() ? ec.message() : what), false};
        return req;
    }
    return failure{exit_usage, "Parameter validation failed:" + problems, false};
}

}  // namespace iotjobs::cli
