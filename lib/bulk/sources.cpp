// The synchronous item sources of the bulk engine: a vector, a generator and a stream (CSV with a
// header row, or JSON Lines). The list source (ListJobExecutions*) lives in engine.cpp.
//
// Completion. These sources have their answer at once. async_next completes through
// asio::dispatch on the handler's associated executor: inline when the caller already runs there
// (the engine pulls from a coroutine on its strand), queued otherwise. asio::post is not an option:
// any_completion_executor in Boost 1.81 cannot require blocking.never.
//
// Inline completion has a trap: the consumer resumes inside async_next and calls async_next again
// from there, so a naive source nests one more stack level per item (measured: a coroutine pulling
// 100,000 items that way overflows an 8 MB stack). sync_source below therefore trampolines: a call
// made while a completion is under way only parks its handler, and the outer call's loop completes
// it once the handler has returned. The stack depth stays constant whatever the number of items,
// and a consumer on another thread (handler queued, not inline) is served correctly (a mutex guards
// the hand-over).
//
// Stream formats (details the public header leaves open):
//  - Lines end with '\n' or "\r\n"; a last line without either counts. Lines are numbered from 1,
//    header and blank lines included. A UTF-8 BOM before line 1 is skipped. Blank lines (spaces,
//    tabs) are skipped. A line longer than 64 KiB is an invalid item (the rest of it is skipped):
//    memory stays bounded whatever the input, which is read as it is consumed, never whole.
//  - automatic: JSON Lines when the first non-blank line starts with '{' (after spaces), else CSV.
//  - CSV (RFC 4180 quoting: "a,b" and "a""b"): the header names the columns thingName, jobId,
//    executionNumber, optionally force and namespaceId, case-sensitive, in any order; an unknown,
//    duplicate or missing required column fails the whole source. A record is one line (no valid
//    value holds a line break, so a quote left open is an invalid line, not a run-away record).
//    Values are taken as they are (no trimming). force: true/false/1/0/yes/no in any case; an empty
//    force or namespaceId means "not set". Optional region and profile columns (JSON Lines: string
//    members) say which account and region the item belongs to (bulk_item::region / profile).
//  - JSON Lines: an object per line; executionNumber a JSON integer or a string of decimal digits
//    (exact over the whole int64 range; fractions, exponents and out-of-range values are invalid);
//    force a boolean or "true"/"false"; null counts as missing. Other members are ignored (so a
//    report line can be fed back as input), except a known name in the wrong case
//    ("ThingName"), which makes the line invalid rather than silently ignored.
//  - An invalid line gives an item with the line number and whatever could be read, pull::invalid =
//    "line N: <every problem found, '; '-separated>" (the model's messages from wire.hpp, naming
//    the field), and pull::raw = the whole line (a line over 64 KiB: its first 64 KiB).
//  - Report lines fed back as JSON Lines input: a line whose "outcome" is "invalid_input" is
//    invalid input again, never a request (whatever other members it has, e.g. the placeholders
//    older reports wrote); its pull::raw is its "input" member (the original line) when it has
//    one. A purge verification line (a "verify" member) is not an item and is skipped.
//
// Stream errors. An input that cannot be used at all (a CSV header with an unknown, duplicate or
// missing column, an unreadable stream) completes with an error and, as the engine expects, the
// explanation in pull::invalid (no item). The same error is repeated by any later call. An input
// *line* that cannot be used is an item with pull::invalid set (and never stops the run).
#include "endpoint/endpoint.hpp"
#include "jobs/wire.hpp"
#include "util/text.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/errc.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <istream>
#include <limits>
#include <mutex>
#include <streambuf>

namespace iotjobs {

std::string_view to_string(bulk_outcome_kind k) noexcept {
    switch (k) {
    case bulk_outcome_kind::deleted: return "deleted";
    case bulk_outcome_kind::not_found: return "not_found";
    case bulk_outcome_kind::refused: return "refused";
    case bulk_outcome_kind::failed: return "failed";
    case bulk_outcome_kind::not_attempted: return "not_attempted";
    case bulk_outcome_kind::invalid_input: return "invalid_input";
    }
    return {};
}

bulk_outcome_kind predict_delete_outcome(job_execution_status status, bool force) noexcept {
    switch (status) {
    case job_execution_status::queued:
    case job_execution_status::in_progress: return force ? bulk_outcome_kind::deleted : bulk_outcome_kind::refused;
    default: return bulk_outcome_kind::deleted;
    }
}

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using pull = bulk_source::pull;
using next_handler = asio::any_completion_handler<void(error_code, pull)>;

// The longest input line accepted; a longer line is reported invalid and skipped.
constexpr std::size_t max_line_bytes = 64 * 1024;
// The part of a fatal line (a bad CSV header) quoted in the source's error.
constexpr std::size_t max_raw_bytes = 200;

// A source that computes each answer synchronously (see the file comment for the trampoline).
class sync_source : public bulk_source {
public:
    void async_next(next_handler handler) final {
        {
            std::lock_guard lock(mutex_);
            if (busy_) {  // called from inside our own completion: the loop below serves it
                parked_.emplace(std::move(handler));
                return;
            }
            busy_ = true;
        }
        try {
            for (;;) {
                pull p;
                const error_code ec = produce(p);
                auto ex = asio::get_associated_executor(handler);
                asio::dispatch(
                    ex, [h = std::move(handler), ec, p = std::move(p)]() mutable { std::move(h)(ec, std::move(p)); });
                std::lock_guard lock(mutex_);
                if (!parked_) {
                    busy_ = false;
                    return;
                }
                // swap, not move assignment: any_completion_handler's move assignment in Boost 1.81
                // copies from an lvalue and recurses without end.
                handler.swap(*parked_);
                parked_.reset();
            }
        } catch (...) {
            std::lock_guard lock(mutex_);
            busy_ = false;
            throw;
        }
    }

protected:
    // The next answer: an item (possibly invalid), or nothing at the end, or an error.
    virtual error_code produce(pull& out) = 0;

private:
    std::mutex mutex_;
    bool busy_ = false;
    std::optional<next_handler> parked_;
};

std::string item_problem(std::uint64_t index, const std::string& what) {
    return "item " + std::to_string(index) + ": " + what;
}

class vector_source final : public sync_source {
public:
    explicit vector_source(std::vector<delete_job_execution_request> items) : items_(std::move(items)) {}

private:
    error_code produce(pull& out) override {
        if (next_ == items_.size()) return {};
        bulk_item item;
        item.request = std::move(items_[next_]);
        item.line = ++next_;
        std::string what;
        if (validate(item.request, &what)) out.invalid = item_problem(item.line, what);
        out.item = std::move(item);
        return {};
    }

    std::vector<delete_job_execution_request> items_;
    std::size_t next_ = 0;
};

class generator_source final : public sync_source {
public:
    explicit generator_source(std::function<std::optional<delete_job_execution_request>()> next)
        : next_(std::move(next)) {}

private:
    error_code produce(pull& out) override {
        if (failed_) {
            out.invalid = failure_;
            return make_error_code(client_errc::invalid_parameter);
        }
        if (done_ || !next_) return {};
        std::optional<delete_job_execution_request> r;
        try {
            r = next_();
        } catch (const std::exception& e) {
            failed_ = true;
            failure_ = std::string("the item generator threw: ") + e.what();
        } catch (...) {
            failed_ = true;
            failure_ = "the item generator threw an exception";
        }
        if (failed_) return produce(out);
        if (!r) {
            done_ = true;
            next_ = nullptr;  // release whatever the generator holds
            return {};
        }
        bulk_item item;
        item.request = std::move(*r);
        item.line = ++count_;
        std::string what;
        if (validate(item.request, &what)) out.invalid = item_problem(item.line, what);
        out.item = std::move(item);
        return {};
    }

    std::function<std::optional<delete_job_execution_request>()> next_;
    std::uint64_t count_ = 0;
    bool done_ = false;
    bool failed_ = false;
    std::string failure_;
};

// ---------------------------------------------------------------------------------------------
// Line reading: bounded memory whatever the input (a 64 KiB line limit over a 128 KiB buffer).

class line_reader {
public:
    enum class result { line, too_long, end, error };

    explicit line_reader(std::istream& in) : in_(in), buf_(new char[capacity]) {}

    // line: the line without its '\n' (valid until the next call). too_long: the line had more
    // than max_line_bytes; `line` holds its first max_line_bytes bytes and the rest was skipped.
    // error: `error_message` says why.
    result next(std::string_view& line) {
        for (;;) {
            if (const void* nl = std::memchr(buf_.get() + scan_, '\n', end_ - scan_)) {
                const auto pos = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.get());
                line = std::string_view(buf_.get() + begin_, pos - begin_);
                begin_ = scan_ = pos + 1;
                if (line.size() <= max_line_bytes) return result::line;
                const result r = keep_prefix(line);
                line = long_prefix_;
                return r;
            }
            scan_ = end_;
            if (end_ - begin_ > max_line_bytes) {
                const result r = keep_prefix(std::string_view(buf_.get() + begin_, end_ - begin_));
                line = long_prefix_;
                if (!skip_rest_of_line()) return result::error;
                return r;
            }
            if (eof_) {
                if (begin_ == end_) return result::end;
                line = std::string_view(buf_.get() + begin_, end_ - begin_);  // a last line without '\n'
                begin_ = scan_ = end_;
                return result::line;
            }
            if (!fill()) return result::error;
        }
    }

    const std::string& error_message() const noexcept { return error_; }

private:
    static constexpr std::size_t capacity = 2 * max_line_bytes;

    result keep_prefix(std::string_view line) {
        long_prefix_.assign(line.substr(0, max_line_bytes));
        return result::too_long;
    }

    // Discards input up to and including the next '\n'.
    bool skip_rest_of_line() {
        for (;;) {
            begin_ = scan_ = end_ = 0;
            if (eof_) return true;
            if (!fill()) return false;
            if (const void* nl = std::memchr(buf_.get(), '\n', end_)) {
                begin_ = scan_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.get()) + 1;
                return true;
            }
        }
    }

    // Moves the unconsumed bytes to the front, then reads what is available (at least one byte,
    // or the end of the input). Without ever asking for more than is available when the stream
    // can tell, so a pipe fed slowly is processed as lines arrive.
    bool fill() {
        if (begin_ > 0) {
            std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
            end_ -= begin_;
            scan_ -= begin_;
            begin_ = 0;
        }
        std::streambuf* sb = in_.rdbuf();
        if (!sb) return fail("the input stream has no buffer");
        const auto space = static_cast<std::streamsize>(capacity - end_);
        try {
            using traits = std::streambuf::traits_type;
            std::streamsize avail = sb->in_avail();
            if (avail == 0) {
                if (traits::eq_int_type(sb->sgetc(), traits::eof())) {
                    eof_ = true;
                    return true;
                }
                avail = sb->in_avail();
            }
            if (avail < 0) {
                eof_ = true;
                return true;
            }
            const std::streamsize want = avail > 0 ? std::min(avail, space) : space;
            const std::streamsize n = sb->sgetn(buf_.get() + end_, want);
            if (n <= 0)
                eof_ = true;
            else
                end_ += static_cast<std::size_t>(n);
        } catch (const std::exception& e) {
            return fail(std::string("reading the input failed: ") + e.what());
        }
        return true;
    }

    bool fail(std::string why) {
        error_ = std::move(why);
        return false;
    }

    std::istream& in_;
    std::unique_ptr<char[]> buf_;
    std::size_t begin_ = 0;  // first byte of the current line
    std::size_t scan_ = 0;   // bytes before this were searched for '\n' already
    std::size_t end_ = 0;    // end of the bytes read
    bool eof_ = false;
    std::string long_prefix_;
    std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Field parsing helpers

using detail::iequals;  // util/text.hpp

bool is_blank(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// A fatal line as quoted in the source's error: at most max_raw_bytes, not cutting a UTF-8 sequence in two.
std::string raw_excerpt(std::string_view line) {
    if (line.size() <= max_raw_bytes) return std::string(line);
    std::size_t n = max_raw_bytes;
    while (n > max_raw_bytes - 3 && (static_cast<unsigned char>(line[n]) & 0xC0) == 0x80) --n;
    return std::string(line.substr(0, n));
}

enum field { f_thing, f_job, f_exec, f_force, f_namespace, f_region, f_profile, field_count };
constexpr std::array<std::string_view, field_count> field_names = {"thingName",   "jobId",  "executionNumber", "force",
                                                                   "namespaceId", "region", "profile"};

// region / profile of a fanned-out item: empty means the run's default. A region must be a host
// label (as --region); a profile name must not hold blanks or brackets (it names a config section).
void check_target(const bulk_item& item, std::vector<std::string>& problems) {
    if (!item.region.empty() && !detail::is_valid_region(item.region))
        problems.push_back("region " + detail::quote_for_message(item.region) + " is not a valid region name");
    if (item.profile.find_first_of(" \t[]") != std::string::npos)
        problems.push_back("profile " + detail::quote_for_message(item.profile) + " is not a valid profile name");
}

// A known field name equal to `name` but for case, or "".
std::string_view case_mismatch(std::string_view name) noexcept {
    for (auto known : field_names)
        if (name != known && iequals(name, known)) return known;
    return {};
}

// force as text. CSV (allow_words_and_digits): true/false/1/0/yes/no, any case, or empty = unset.
// A JSON string: "true" or "false", any case.
bool parse_force_text(std::string_view text, std::optional<bool>& out, bool allow_words_and_digits) {
    if (text.empty() && allow_words_and_digits) {
        out.reset();
        return true;
    }
    if (iequals(text, "true") || (allow_words_and_digits && (text == "1" || iequals(text, "yes")))) {
        out = true;
        return true;
    }
    if (iequals(text, "false") || (allow_words_and_digits && (text == "0" || iequals(text, "no")))) {
        out = false;
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// The stream source

class stream_source final : public sync_source {
public:
    stream_source(std::istream& in, input_format format) : reader_(in), in_(in) {
        switch (format) {
        case input_format::automatic: mode_ = mode::undecided; break;
        case input_format::csv: mode_ = mode::csv_header; break;
        case input_format::jsonl: mode_ = mode::jsonl; break;
        }
    }

private:
    enum class mode { undecided, csv_header, csv, jsonl };

    error_code produce(pull& out) override {
        if (fatal_) {
            out.invalid = fatal_message_;
            out.raw = fatal_raw_;
            return fatal_;
        }
        if (!started_) {
            started_ = true;
            if (in_.fail()) {
                fatal(boost::system::errc::make_error_code(boost::system::errc::io_error),
                      "the input stream is not readable (it failed to open, or an earlier read failed)", {});
                return produce(out);
            }
        }
        for (;;) {
            std::string_view line;
            const auto r = reader_.next(line);
            if (r == line_reader::result::end) return {};
            if (r == line_reader::result::error) {
                fatal(boost::system::errc::make_error_code(boost::system::errc::io_error),
                      "after line " + std::to_string(line_no_) + ": " + reader_.error_message(), {});
                return produce(out);
            }
            ++line_no_;
            if (line_no_ == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
            const bool too_long = r == line_reader::result::too_long;
            if (!too_long && !line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (!too_long && is_blank(line)) continue;

            if (mode_ == mode::undecided) {
                const auto first = line.find_first_not_of(" \t");
                mode_ = first != std::string_view::npos && line[first] == '{' ? mode::jsonl : mode::csv_header;
            }
            if (mode_ == mode::csv_header) {
                if (too_long) {
                    fatal(make_error_code(client_errc::invalid_parameter),
                          line_prefix() + "the CSV header is longer than " + std::to_string(max_line_bytes) + " bytes",
                          line);
                } else if (!parse_header(line)) {
                    fatal(make_error_code(client_errc::invalid_parameter), line_prefix() + problems_.front(), line);
                } else {
                    mode_ = mode::csv;
                    continue;
                }
                return produce(out);
            }

            bulk_item item;
            item.line = line_no_;
            problems_.clear();
            original_input_.reset();
            if (too_long) {
                problems_.push_back("longer than " + std::to_string(max_line_bytes) +
                                    " bytes (the rest of the line was skipped)");
            } else if (mode_ == mode::csv) {
                parse_csv_row(line, item);
            } else if (!parse_json_row(line, item)) {
                continue;  // a purge verification line: not an item
            }
            if (!problems_.empty()) {
                std::string m = line_prefix();
                for (std::size_t i = 0; i < problems_.size(); ++i) {
                    if (i) m += "; ";
                    m += problems_[i];
                }
                out.invalid = std::move(m);
                out.raw = original_input_ ? std::move(*original_input_) : std::string(line);
            }
            out.item = std::move(item);
            return {};
        }
    }

    std::string line_prefix() const { return "line " + std::to_string(line_no_) + ": "; }

    void fatal(error_code ec, std::string message, std::string_view raw) {
        fatal_ = ec;
        fatal_message_ = std::move(message);
        fatal_raw_ = raw_excerpt(raw);
    }

    // Splits one CSV record (RFC 4180, on one line: a valid field never holds a line break) into
    // fields_[0, nfields_). On failure adds a problem and returns false.
    bool split_csv(std::string_view line) {
        nfields_ = 0;
        std::size_t i = 0;
        for (;;) {
            if (nfields_ == fields_.size()) fields_.emplace_back();
            std::string& f = fields_[nfields_++];
            f.clear();
            if (i < line.size() && line[i] == '"') {
                ++i;
                for (;;) {
                    const auto q = line.find('"', i);
                    if (q == std::string_view::npos) {
                        problems_.push_back("field " + std::to_string(nfields_) +
                                            " opens a quote that is not closed on this line");
                        return false;
                    }
                    f.append(line.substr(i, q - i));
                    if (q + 1 < line.size() && line[q + 1] == '"') {
                        f += '"';
                        i = q + 2;
                        continue;
                    }
                    i = q + 1;
                    break;
                }
                if (i == line.size()) return true;
                if (line[i] != ',') {
                    problems_.push_back("field " + std::to_string(nfields_) +
                                        " has text after its closing quote (a quote inside a quoted field is "
                                        "written \"\")");
                    return false;
                }
                ++i;
            } else {
                const auto c = line.find(',', i);
                if (c == std::string_view::npos) {
                    f.append(line.substr(i));
                    return true;
                }
                f.append(line.substr(i, c - i));
                i = c + 1;
            }
        }
    }

    bool parse_header(std::string_view line) {
        problems_.clear();
        if (!split_csv(line)) {
            problems_.front() = "the CSV header is malformed: " + problems_.front();
            return false;
        }
        columns_.fill(-1);
        for (std::size_t i = 0; i < nfields_; ++i) {
            const std::string& name = fields_[i];
            const auto it = std::find(field_names.begin(), field_names.end(), name);
            if (it == field_names.end()) {
                std::string m = "the CSV header has an unknown column " + detail::quote_for_message(name) +
                                " (column " + std::to_string(i + 1) + ")";
                if (auto known = case_mismatch(name); !known.empty())
                    m += ": column names are case-sensitive, did you mean '" + std::string(known) + "'?";
                else
                    m += "; the columns are thingName, jobId, executionNumber and optionally force, namespaceId, "
                         "region and profile "
                         "(is the header row missing?)";
                problems_.push_back(std::move(m));
                return false;
            }
            auto& col = columns_[static_cast<std::size_t>(it - field_names.begin())];
            if (col >= 0) {
                problems_.push_back("the CSV header has the column " + name + " twice (columns " +
                                    std::to_string(col + 1) + " and " + std::to_string(i + 1) + ")");
                return false;
            }
            col = static_cast<int>(i);
        }
        for (std::size_t f = f_thing; f <= f_exec; ++f) {
            if (columns_[f] < 0) {
                problems_.push_back("the CSV header has no " + std::string(field_names[f]) +
                                    " column (required: thingName, jobId, executionNumber)");
                return false;
            }
        }
        header_fields_ = nfields_;
        return true;
    }

    const std::string* column(field f) const {
        const int c = columns_[f];
        return c >= 0 && static_cast<std::size_t>(c) < nfields_ ? &fields_[static_cast<std::size_t>(c)] : nullptr;
    }

    void parse_csv_row(std::string_view line, bulk_item& item) {
        delete_job_execution_request& req = item.request;
        if (!split_csv(line)) return;
        if (nfields_ != header_fields_) {
            problems_.push_back("has " + std::to_string(nfields_) + " field" + (nfields_ == 1 ? "" : "s") +
                                ", the header has " + std::to_string(header_fields_));
            // Keep what can be kept, for the report; no further checks.
            if (auto* v = column(f_thing)) req.thing_name = *v;
            if (auto* v = column(f_job)) req.job_id = *v;
            if (auto* v = column(f_exec)) detail::parse_execution_number(*v, req.execution_number, nullptr);
            return;
        }
        std::string what;
        req.thing_name = *column(f_thing);
        if (detail::validate_thing_name(req.thing_name, &what)) problems_.push_back(std::move(what));
        req.job_id = *column(f_job);
        if (detail::validate_job_id(req.job_id, &what)) problems_.push_back(std::move(what));
        if (!detail::parse_execution_number(*column(f_exec), req.execution_number, &what))
            problems_.push_back(std::move(what));
        if (auto* v = column(f_force); v && !parse_force_text(*v, req.force, true))
            problems_.push_back("force " + detail::quote_for_message(*v) +
                                " is invalid: must be true, false, 1, 0, yes, no or empty");
        if (auto* v = column(f_namespace); v && !v->empty()) {
            req.namespace_id = *v;
            if (detail::validate_namespace_id(*v, &what)) problems_.push_back(std::move(what));
        }
        if (auto* v = column(f_region)) item.region = *v;
        if (auto* v = column(f_profile)) item.profile = *v;
        check_target(item, problems_);
        check_model(req);
    }

    void optional_string(const json::value* m, std::string_view name, std::string& out) {
        if (!m) return;
        if (const json::string* s = m->if_string())
            out.assign(s->data(), s->size());
        else
            problems_.push_back(std::string(name) + " must be a string");
    }

    // The model's rules, as DeleteJobExecution applies them (the final word).
    void check_model(const delete_job_execution_request& req) {
        if (!problems_.empty()) return;
        std::string what;
        if (validate(req, &what)) problems_.push_back(std::move(what));
    }

    // Returns false for a line that is not an item at all (a purge verification line), else true
    // (problems_ says whether the item is valid).
    // A report's invalid_input line fed back as input: invalid again, with the original input
    // carried on.
    void report_invalid_input_line(const json::object& o) {
        constexpr std::string_view head = "an invalid_input line of a report, not an item";
        std::string m(head);
        if (const json::value* why = o.if_contains("message"); why && why->is_string()) {
            std::string_view w(why->as_string().data(), why->as_string().size());
            if (w.starts_with("line ")) {  // "line N: ..." of the run that wrote it
                const auto colon = w.find(": ");
                if (colon != std::string_view::npos) w.remove_prefix(colon + 2);
            }
            if (w.starts_with(head))
                m = std::string(w);  // fed back more than once: the same words, not nested
            else if (!w.empty())
                m += " (it was: " + std::string(w) + ")";
        }
        problems_.push_back(std::move(m));
        if (const json::value* in = o.if_contains("input"); in && in->is_string())
            original_input_.emplace(in->as_string().data(), in->as_string().size());
    }

    // A JSON row's executionNumber (`m` null when missing): an integer, or a string of digits.
    void read_execution_number(const json::value* m, std::int64_t& out) {
        std::string what;
        if (!m) {
            problems_.push_back("executionNumber is missing");
        } else if (const std::int64_t* i = m->if_int64()) {
            out = *i;
        } else if (const std::uint64_t* u = m->if_uint64()) {
            // Boost.JSON keeps integers that fit in int64 as int64: this one is past INT64_MAX.
            problems_.push_back("executionNumber " + std::to_string(*u) +
                                " is invalid: must be an integer from -9223372036854775808 to 9223372036854775807 "
                                "(out of the signed 64-bit range)");
        } else if (m->is_double()) {
            problems_.push_back(
                "executionNumber is invalid: must be an integer from -9223372036854775808 to 9223372036854775807 "
                "(a number with a fraction or an exponent, or beyond 64 bits, is not exact)");
        } else if (const json::string* s = m->if_string()) {
            if (!detail::parse_execution_number(std::string_view(s->data(), s->size()), out, &what))
                problems_.push_back(std::move(what));
        } else {
            problems_.push_back("executionNumber must be an integer or a string of decimal digits");
        }
    }

    bool parse_json_row(std::string_view line, bulk_item& item) {
        delete_job_execution_request& req = item.request;
        unsigned char scratch[2048];
        json::monotonic_resource mr(scratch, sizeof scratch);
        error_code ec;
        const json::value v = json::parse(line, ec, &mr);
        if (ec) {
            problems_.push_back("not valid JSON (" + ec.message() + ")");
            return true;
        }
        const json::object* o = v.if_object();
        if (!o) {
            problems_.push_back("not a JSON object");
            return true;
        }
        if (o->contains("verify")) return false;
        if (const json::value* oc = o->if_contains("outcome");
            oc && oc->is_string() && oc->as_string() == "invalid_input") {
            report_invalid_input_line(*o);
            return true;
        }
        for (const auto& kv : *o) {
            const std::string_view key(kv.key().data(), kv.key().size());
            if (auto known = case_mismatch(key); !known.empty())
                problems_.push_back("unknown member " + detail::quote_for_message(key) +
                                    ": member names are case-sensitive, did you mean '" + std::string(known) + "'?");
        }
        // null counts as missing.
        auto member = [&](field f) -> const json::value* {
            const json::value* m = o->if_contains(field_names[f]);
            return m && !m->is_null() ? m : nullptr;
        };
        std::string what;
        const auto required_string = [&](field f, std::string& out, auto validator) {
            const json::value* m = member(f);
            if (!m) {
                problems_.push_back(std::string(field_names[f]) + " is missing");
            } else if (const json::string* s = m->if_string()) {
                out.assign(s->data(), s->size());
                if (validator(out, &what)) problems_.push_back(std::move(what));
            } else {
                problems_.push_back(std::string(field_names[f]) + " must be a string");
            }
        };
        required_string(f_thing, req.thing_name, detail::validate_thing_name);
        required_string(f_job, req.job_id, detail::validate_job_id);

        read_execution_number(member(f_exec), req.execution_number);
        if (const json::value* m = member(f_force)) {
            if (const bool* b = m->if_bool()) {
                req.force = *b;
            } else if (const json::string* s = m->if_string();
                       !s || !parse_force_text(std::string_view(s->data(), s->size()), req.force, false)) {
                problems_.push_back(
                    "force is invalid: must be true or false (a JSON boolean or the string "
                    "\"true\" or \"false\")");
            }
        }
        if (const json::value* m = member(f_namespace)) {
            if (const json::string* s = m->if_string()) {
                req.namespace_id.emplace(s->data(), s->size());
                if (detail::validate_namespace_id(*req.namespace_id, &what)) problems_.push_back(std::move(what));
            } else {
                problems_.push_back("namespaceId must be a string");
            }
        }
        optional_string(member(f_region), "region", item.region);
        optional_string(member(f_profile), "profile", item.profile);
        check_target(item, problems_);
        check_model(req);
        return true;
    }

    line_reader reader_;
    std::istream& in_;
    mode mode_ = mode::undecided;
    bool started_ = false;
    std::uint64_t line_no_ = 0;
    std::vector<std::string> problems_;
    std::optional<std::string> original_input_;  // a report's invalid_input line: its "input"
    // CSV
    std::vector<std::string> fields_;  // reused from line to line
    std::size_t nfields_ = 0;
    std::size_t header_fields_ = 0;
    std::array<int, field_count> columns_{};
    // A source that cannot go on
    error_code fatal_;
    std::string fatal_message_;
    std::string fatal_raw_;
};

}  // namespace

std::unique_ptr<bulk_source> make_vector_source(std::vector<delete_job_execution_request> items) {
    return std::make_unique<vector_source>(std::move(items));
}

std::unique_ptr<bulk_source> make_generator_source(std::function<std::optional<delete_job_execution_request>()> next) {
    return std::make_unique<generator_source>(std::move(next));
}

std::unique_ptr<bulk_source> make_stream_source(std::istream& in, input_format format) {
    return std::make_unique<stream_source>(in, format);
}

}  // namespace iotjobs
