// The JSON Lines report of a bulk run and the --skip-done reader (see report.hpp).
#include "bulk/report.hpp"

#include "util/json_text.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstring>
#include <functional>
#include <istream>
#include <ostream>

namespace iotjobs::detail {

namespace {

namespace json = boost::json;

// 1: a done outcome (deleted, not_found); 0: another outcome (tried again); -1: not an outcome.
int classify_outcome(std::string_view outcome) noexcept {
    if (outcome == "deleted" || outcome == "not_found") return 1;
    if (outcome == "refused" || outcome == "failed" || outcome == "not_attempted" || outcome == "invalid_input")
        return 0;
    return -1;
}

bool outcome_from_string(std::string_view s, bulk_outcome_kind& out) noexcept {
    for (auto k : {bulk_outcome_kind::deleted, bulk_outcome_kind::not_found, bulk_outcome_kind::refused,
                   bulk_outcome_kind::failed, bulk_outcome_kind::not_attempted, bulk_outcome_kind::invalid_input})
        if (to_string(k) == s) {
            out = k;
            return true;
        }
    return false;
}

void append_item_members(std::string& out, const delete_job_execution_request& r) {
    json_members m(out);
    m.string("thingName", r.thing_name).string("jobId", r.job_id).integer("executionNumber", r.execution_number);
    if (r.force) m.boolean("force", *r.force);
    if (r.namespace_id) m.string("namespaceId", *r.namespace_id);
}

// The key members of a parsed report line; false if one is missing or of the wrong type.
struct line_key {
    std::string_view thing, job;
    std::int64_t number = 0;
};
bool key_of(const json::object& o, line_key& k) {
    const json::value* t = o.if_contains("thingName");
    const json::value* j = o.if_contains("jobId");
    const json::value* n = o.if_contains("executionNumber");
    if (!t || !j || !n || !t->is_string() || !j->is_string() || !n->is_int64()) return false;
    k.thing = std::string_view(t->get_string().data(), t->get_string().size());
    k.job = std::string_view(j->get_string().data(), j->get_string().size());
    k.number = n->get_int64();
    return true;
}

}  // namespace

void append_outcome_jsonl(std::string& out, const bulk_outcome& o) {
    const auto& r = o.item.request;
    const bool invalid = o.kind == bulk_outcome_kind::invalid_input;
    out += "{\"line\":";
    append_int(out, o.item.line);
    if (!invalid) {
        out += ',';
        append_item_members(out, r);
        if (o.item.status) {
            out += ",\"status\":\"";
            out += to_string(*o.item.status);
            out += '"';
        }
    }
    // Fanned out: which account and region (the members the stream source reads back).
    if (!o.item.profile.empty()) {
        out += ",\"profile\":";
        append_json_string(out, o.item.profile);
    }
    if (!o.item.region.empty()) {
        out += ",\"region\":";
        append_json_string(out, o.item.region);
    }
    out += ",\"outcome\":\"";
    out += to_string(o.kind);
    out += '"';
    if (o.predicted) {
        out += ",\"predicted\":\"";
        out += to_string(*o.predicted);
        out += '"';
    }
    if (o.kind != bulk_outcome_kind::deleted) {
        if (!o.aws_error_name.empty()) {
            out += ",\"error\":";
            append_json_string(out, o.aws_error_name);
        } else if (o.ec) {
            out += ",\"error\":";
            append_json_string(out, o.ec.message());
        }
    }
    if (!o.message.empty()) {
        out += ",\"message\":";
        append_json_string(out, o.message);
    }
    out += ",\"attempts\":";
    append_int(out, o.attempts);
    if (!o.request_id.empty()) {
        out += ",\"requestId\":";
        append_json_string(out, o.request_id);
    }
    if (o.earlier_attempt_may_have_succeeded) out += ",\"possiblyDeletedEarlier\":true";
    if (invalid) {
        out += ",\"input\":";
        if (!o.raw_input.empty()) {
            append_json_string(out, o.raw_input);
        } else {  // an item that came from no line (a vector or generator source): the item itself
            std::string item = "{";
            append_item_members(item, r);
            item += '}';
            append_json_string(out, item);
        }
    }
    out += "}\n";
}

bool carried_line(std::string_view earlier, std::uint64_t line, std::string& out, bulk_outcome_kind& kind) {
    error_code ec;
    json::value v = json::parse(earlier, ec);
    json::object* o = ec ? nullptr : v.if_object();
    if (!o) return false;
    const json::value* oc = o->if_contains("outcome");
    if (!oc || !oc->is_string() ||
        !outcome_from_string(std::string_view(oc->get_string().data(), oc->get_string().size()), kind))
        return false;
    (*o)["line"] = line;
    (*o)["carried"] = true;
    out += json::serialize(v);
    out += '\n';
    return true;
}

void append_still_present_jsonl(std::string& out, const still_present& p) {
    out += "{\"verify\":\"still_present\",";
    delete_job_execution_request r = p.request;
    r.force.reset();
    append_item_members(out, r);
    out += ",\"status\":\"";
    out += to_string(p.status);
    out += "\",\"reason\":";
    append_json_string(out, p.reason);
    if (!p.error.empty()) {
        out += ",\"error\":";
        append_json_string(out, p.error);
    }
    if (!p.message.empty()) {
        out += ",\"message\":";
        append_json_string(out, p.message);
    }
    out += "}\n";
}

void write_outcome_jsonl(std::ostream& os, const bulk_outcome& o) {
    thread_local std::string line;
    line.clear();
    append_outcome_jsonl(line, o);
    os.write(line.data(), static_cast<std::streamsize>(line.size()));
    if (line.capacity() > 64 * 1024) std::string().swap(line);  // do not keep a rare huge line's buffer
}

// ---------------------------------------------------------------------------------------------
// done_set

std::uint64_t done_set::key_hash(std::string_view thing_name, std::string_view job_id,
                                 std::int64_t execution_number) noexcept {
    // thingName NUL jobId NUL executionNumber (8 bytes): NUL is in neither name's alphabet, so
    // distinct valid items give distinct keys. Hashed with the library's 64-bit string hash
    // (MurmurHash64A in libstdc++); only ever compared within one process.
    char stack[8 + 160 + 80];
    const std::size_t size = thing_name.size() + job_id.size() + 2 + sizeof execution_number;
    std::string heap;
    char* p = stack;
    if (size > sizeof stack) {
        heap.resize(size);
        p = heap.data();
    }
    char* w = p;
    std::memcpy(w, thing_name.data(), thing_name.size());
    w += thing_name.size();
    *w++ = '\0';
    std::memcpy(w, job_id.data(), job_id.size());
    w += job_id.size();
    *w++ = '\0';
    std::memcpy(w, &execution_number, sizeof execution_number);
    return std::hash<std::string_view>{}(std::string_view(p, size));
}

bool done_set::contains(std::string_view thing_name, std::string_view job_id,
                        std::int64_t execution_number) const noexcept {
    return count_ != 0 && find(key_hash(thing_name, job_id, execution_number)) != nullptr;
}

const done_set::slot* done_set::find(std::uint64_t h) const noexcept {
    if (slots_.empty()) return nullptr;
    if (h == 0) h = 1;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
        if (slots_[i].hash == h) return &slots_[i];
        if (slots_[i].hash == 0) return nullptr;
    }
}

void done_set::insert(std::uint64_t h, std::uint64_t where) {
    if (h == 0) h = 1;
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
        if (slots_[i].hash == h) return;  // the first report's line wins
        if (slots_[i].hash == 0) {
            slots_[i] = slot{h, where};
            ++count_;
            return;
        }
    }
}

void done_set::grow() {
    std::vector<slot> old(slots_.empty() ? 1024 : slots_.size() * 2);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const slot& s : old) {
        if (s.hash == 0) continue;
        std::size_t i = static_cast<std::size_t>(s.hash) & mask;
        while (slots_[i].hash != 0) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

std::optional<std::string> done_set::earlier_line(const delete_job_execution_request& r) {
    if (count_ == 0) return std::nullopt;
    const slot* s = find(key_hash(r.thing_name, r.job_id, r.execution_number));
    if (!s || s->where == no_line) return std::nullopt;
    const std::size_t index = static_cast<std::size_t>(s->where >> offset_bits);
    const auto offset = static_cast<std::streamoff>(s->where & ((std::uint64_t{1} << offset_bits) - 1));
    if (index >= streams_.size()) return std::nullopt;
    std::istream& in = *streams_[index];
    in.clear();
    if (!in.seekg(offset)) return std::nullopt;
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // The whole key again: a hash collision or a changed file must not skip an item.
    error_code ec;
    const json::value v = json::parse(line, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    line_key k;
    if (!o || !key_of(*o, k) || k.thing != r.thing_name || k.job != r.job_id || k.number != r.execution_number)
        return std::nullopt;
    return line;
}

done_set::load_result done_set::load(std::istream& report) {
    load_result res;
    const std::size_t index = streams_.size();
    streams_.push_back(&report);
    std::streamoff start = report.tellg();
    if (start < 0) start = 0;
    auto offset = static_cast<std::uint64_t>(start);
    std::string line;
    unsigned char scratch[4096];
    while (std::getline(report, line)) {
        const bool last_without_newline = report.eof();
        const std::uint64_t line_offset = offset;
        offset += line.size() + (last_without_newline ? 0 : 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        ++res.lines;

        json::monotonic_resource mr(scratch, sizeof scratch);
        error_code ec;
        const json::value v = json::parse(line, ec, &mr);
        const json::object* o = ec ? nullptr : v.if_object();
        line_key k;
        bool has_key = false;
        int kind = -1;
        if (o) {
            const json::value* oc = o->if_contains("outcome");
            if (oc && oc->is_string())
                kind = classify_outcome(std::string_view(oc->get_string().data(), oc->get_string().size()));
            has_key = key_of(*o, k);
        }
        // A report line: an item with an outcome, an invalid_input line (no item members), or a
        // purge verification line.
        const bool ok = o && ((kind >= 0 && (has_key || kind == 0)) || o->contains("verify"));
        if (!ok) {
            if (last_without_newline)
                res.truncated_last_line = true;
            else
                ++res.malformed;
            continue;
        }
        if (kind == 1) {
            const std::uint64_t where = line_offset < (std::uint64_t{1} << offset_bits) && index < 0xFFFF
                                            ? (static_cast<std::uint64_t>(index) << offset_bits) | line_offset
                                            : no_line;
            insert(key_hash(k.thing, k.job, k.number), where);
            ++res.finished;
        }
    }
    malformed_ += res.malformed;
    return res;
}

}  // namespace iotjobs::detail
