// The bulk-delete report: JSON Lines, one line per item with its outcome, written as outcomes
// arrive; and the reader behind --skip-done, which remembers the items a previous report shows
// as finished.
#pragma once

#include <iotjobs/bulk_delete.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::detail {

// Appends `s` as a JSON string, quotes included. Escapes " and \ and every byte below 0x20
// (\n, \t, ... or \u00XX); valid UTF-8 passes through unchanged; each byte of an invalid UTF-8
// sequence (a raw input line may hold anything) becomes \ufffd, so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// Appends one report line, '\n' included:
//   {"line":N,"thingName":s,"jobId":s,"executionNumber":N,["force":b,]["namespaceId":s,]
//    "outcome":"deleted"|"not_found"|"refused"|"failed"|"not_attempted"|"invalid_input",
//    ["error":s,]["message":s,]"attempts":N[,"possiblyDeletedEarlier":true][,"input":s]}
// error: the AWS error name, else the error code's message; only for outcomes other than
// deleted, and only when there is one. message: when not empty. possiblyDeletedEarlier: only when
// set. input: invalid_input only (the raw line, as the source kept it). force and namespaceId:
// when the request sets them, so that report lines can be fed back as JSON Lines input.
void append_outcome_jsonl(std::string& out, const bulk_outcome& o);

// append_outcome_jsonl into a reused buffer, then one write to `os` (not flushed).
void write_outcome_jsonl(std::ostream& os, const bulk_outcome& o);

// The items a previous report shows as finished: deleted, not_found or refused (not failed,
// not_attempted or invalid_input, which a resumed run should try again).
//
// Memory: one 64-bit hash per finished item in an open-addressing table kept at most half full:
// 8-16 bytes per item plus a transient 1.5x while growing, so 1,000,000 items take 16 MB (24 MB
// peak while loading). The tradeoff of storing hashes, not keys: two different items whose hashes
// are equal would make contains() answer true for an item never finished, so a resumed run would
// skip it. With n finished items and m items checked the chance that this happens at all is about
// n*m/2^64: 5e-8 for a million of each.
class done_set {
public:
    struct load_result {
        std::uint64_t lines = 0;      // non-blank lines read
        std::uint64_t finished = 0;   // lines with a final outcome (added)
        std::uint64_t malformed = 0;  // lines that are not a report line (bad JSON, missing members, ...)
        // The last line had no '\n' and did not parse: a report cut short by a crash. Not counted
        // as malformed; the item it described is simply not known as finished.
        bool truncated_last_line = false;
    };

    // Adds the finished items of a report. Never throws on bad content (only std::bad_alloc).
    // May be called for several reports.
    load_result load(std::istream& report);

    bool contains(std::string_view thing_name, std::string_view job_id, std::int64_t execution_number) const noexcept;
    bool contains(const delete_job_execution_request& r) const noexcept {
        return contains(r.thing_name, r.job_id, r.execution_number);
    }

    // Distinct finished items held.
    std::size_t size() const noexcept { return count_; }
    // Totals over every load().
    std::uint64_t malformed_lines() const noexcept { return malformed_; }

    // For tests.
    static std::uint64_t key_hash(std::string_view thing_name, std::string_view job_id,
                                  std::int64_t execution_number) noexcept;
    void insert_hash(std::uint64_t h);

private:
    bool contains_hash(std::uint64_t h) const noexcept;
    void grow();

    std::vector<std::uint64_t> slots_;  // 0 = empty; a power of two in size
    std::size_t count_ = 0;
    std::uint64_t malformed_ = 0;
};

}  // namespace iotjobs::detail
