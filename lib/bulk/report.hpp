// The bulk-delete report: JSON Lines, one line per item with its outcome, written as outcomes
// arrive (and, for purge, one line per execution still present afterwards); and the reader behind
// --skip-done, which remembers the items earlier reports show as done and re-reads their lines.
#pragma once

#include "util/json_text.hpp"

#include <iotjobs/bulk_delete.hpp>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::detail {

// Appends one report line, '\n' included. An item's line:
//   {"line":N,"thingName":s,"jobId":s,"executionNumber":N,["force":b,]["namespaceId":s,]
//    ["status":S,]["profile":s,]["region":s,]"outcome":"deleted"|"not_found"|"refused"|"failed"|"not_attempted",
//    ["predicted":"deleted"|"refused"|"not_found",]["error":s,]["message":s,]"attempts":N[,"requestId":s]
//    [,"possiblyDeletedEarlier":true]}
// An invalid_input line has no item members (nothing of it is a request, so a report fed back as
// input never sends anything for it):
//   {"line":N,"outcome":"invalid_input","error":s,"message":s,"attempts":N,"input":s}
// error: the AWS error name, else the error code's message; only for outcomes other than
// deleted, and only when there is one. message: when not empty. status: the execution's status
// when known (listed by purge, or looked up by a dry run). predicted: dry runs (see
// bulk_outcome::predicted). possiblyDeletedEarlier: only when set. input: the raw line, whole
// (for an item that came from no line, e.g. a vector source: the item as a JSON object). force and
// namespaceId: when the request sets them, so that report lines can be fed back as JSON Lines input.
// profile and region: when the item names them (a fanned-out run), read back the same way.
void append_outcome_jsonl(std::string& out, const bulk_outcome& o);

// append_outcome_jsonl into a reused buffer, then one write to `os` (not flushed).
void write_outcome_jsonl(std::ostream& os, const bulk_outcome& o);

// A --skip-done item's earlier report line, carried into the new report: the same JSON object
// with "line" set to `line` (the item's line in this run's input) and "carried":true added (kept
// where it already is: a line carried twice stays carried). Writes it with its '\n' to `out` and
// its outcome to `kind`. False, writing nothing, if `earlier` is not such a line.
bool carried_line(std::string_view earlier, std::uint64_t line, std::string& out, bulk_outcome_kind& kind);

// A purge verification line: an execution that is still listed after the purge.
//   {"verify":"still_present","thingName":s,"jobId":s,"executionNumber":N,["namespaceId":s,]
//    "status":S,"reason":R,["error":s,]["message":s]}
// reason: this run's outcome for it (refused, failed, not_found, not_attempted, deleted — listed
// although deleted —) or "not_in_run" (not listed by the run: it appeared after the listing).
struct still_present {
    delete_job_execution_request request;
    job_execution_status status = job_execution_status::queued;
    std::string reason;
    std::string error;
    std::string message;
};
void append_still_present_jsonl(std::string& out, const still_present& p);

// The items earlier reports show as done: deleted or not_found. refused, failed, not_attempted
// and invalid_input items are not done: a resumed run tries them again.
//
// For each done item the set keeps where its line is (the report stream and the offset), not the
// line: a resumed run re-reads the line of every item it skips (earlier_line) to carry it into
// the new report. Memory: 16 bytes per slot (the key's 64-bit hash and the line's position) in an
// open-addressing table kept at most half full: 16-32 bytes per done item plus a transient 1.5x
// while growing, so 1,000,000 items take 32 MB (48 MB peak while loading); keeping the lines
// themselves would cost their size again (about 110 bytes each). The cost of that choice: one seek
// and one short read of the earlier report per skipped item, and the report streams must stay open
// (and unchanged) for the whole run.
//
// Hash collisions: contains() compares hashes only; two items whose hashes are equal would make it
// answer true for an item never finished (chance about n*m/2^64 for n done items and m checked:
// 5e-8 for a million of each). earlier_line() re-reads and compares the whole key, so a collision
// there only makes the item be tried again.
class done_set {
public:
    struct load_result {
        std::uint64_t lines = 0;      // non-blank lines read
        std::uint64_t finished = 0;   // lines with a done outcome (added)
        std::uint64_t malformed = 0;  // lines that are not a report line (bad JSON, missing members, ...)
        // The last line had no '\n' and did not parse: a report cut short by a crash. Not counted
        // as malformed; the item it described is simply not known as finished.
        bool truncated_last_line = false;
    };

    // Adds the done items of a report. May be called for several reports; an item done in several
    // keeps its first line. `report` must stay valid and seekable while earlier_line() may be
    // called (an ifstream or an istringstream). Never throws on bad content (only std::bad_alloc).
    load_result load(std::istream& report);

    bool contains(std::string_view thing_name, std::string_view job_id, std::int64_t execution_number) const noexcept;
    bool contains(const delete_job_execution_request& r) const noexcept {
        return contains(r.thing_name, r.job_id, r.execution_number);
    }
    // The report line (without '\n') that shows `r` done, re-read from its report; nullopt when
    // `r` is not done (or the line read back is not r's, e.g. the file changed).
    std::optional<std::string> earlier_line(const delete_job_execution_request& r);

    // Distinct finished items held.
    std::size_t size() const noexcept { return count_; }
    // Totals over every load().
    std::uint64_t malformed_lines() const noexcept { return malformed_; }

    // For tests.
    static std::uint64_t key_hash(std::string_view thing_name, std::string_view job_id,
                                  std::int64_t execution_number) noexcept;
    void insert_hash(std::uint64_t h) { insert(h, no_line); }

private:
    static constexpr std::uint64_t no_line = ~std::uint64_t{0};
    static constexpr int offset_bits = 48;  // where = stream index << 48 | offset
    struct slot {
        std::uint64_t hash = 0;  // 0 = empty
        std::uint64_t where = no_line;
    };
    const slot* find(std::uint64_t h) const noexcept;
    void insert(std::uint64_t h, std::uint64_t where);
    void grow();

    std::vector<slot> slots_;  // a power of two in size
    std::vector<std::istream*> streams_;
    std::size_t count_ = 0;
    std::uint64_t malformed_ = 0;
};

}  // namespace iotjobs::detail
