// The JSON Lines report of a bulk run and the --skip-done reader (see report.hpp).
#include "bulk/report.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstring>
#include <functional>
#include <istream>
#include <ostream>

namespace iotjobs::detail {

namespace {

namespace json = boost::json;

constexpr char hex_digits[] = "0123456789abcdef";

// The length of the valid UTF-8 sequence starting at s[i] (2-4 bytes), or 0 if there is none.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    const auto b0 = static_cast<unsigned char>(s[i]);
    const std::size_t left = s.size() - i;
    auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        if (k >= left) return false;
        const auto b = static_cast<unsigned char>(s[i + k]);
        return b >= lo && b <= hi;
    };
    if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
    if (b0 == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no UTF-16 surrogates
    if (b0 >= 0xE1 && b0 <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (b0 == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;  // up to U+10FFFF
    return 0;
}

template <class Int>
void append_int(std::string& out, Int v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// 1: a final outcome (deleted, not_found, refused); 0: another outcome; -1: not an outcome.
int classify_outcome(std::string_view outcome) noexcept {
    if (outcome == "deleted" || outcome == "not_found" || outcome == "refused") return 1;
    if (outcome == "failed" || outcome == "not_attempted" || outcome == "invalid_input") return 0;
    return -1;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    std::size_t run = 0;  // start of the bytes not yet copied
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const std::size_t n = utf8_sequence_length(s, i)) {
                i += n;
                continue;
            }
        }
        out.append(s.data() + run, i - run);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex_digits[c >> 4];
                    out += hex_digits[c & 0x0F];
                } else {
                    out += "\\ufffd";  // a byte of invalid UTF-8
                }
        }
        run = ++i;
    }
    out.append(s.data() + run, s.size() - run);
    out += '"';
}

void append_outcome_jsonl(std::string& out, const bulk_outcome& o) {
    const auto& r = o.item.request;
    out += "{\"line\":";
    append_int(out, o.item.line);
    out += ",\"thingName\":";
    append_json_string(out, r.thing_name);
    out += ",\"jobId\":";
    append_json_string(out, r.job_id);
    out += ",\"executionNumber\":";
    append_int(out, r.execution_number);
    if (r.force) out += *r.force ? ",\"force\":true" : ",\"force\":false";
    if (r.namespace_id) {
        out += ",\"namespaceId\":";
        append_json_string(out, *r.namespace_id);
    }
    out += ",\"outcome\":\"";
    out += to_string(o.kind);
    out += '"';
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
    if (o.earlier_attempt_may_have_succeeded) out += ",\"possiblyDeletedEarlier\":true";
    if (o.kind == bulk_outcome_kind::invalid_input) {
        out += ",\"input\":";
        append_json_string(out, o.raw_input);
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
    return count_ != 0 && contains_hash(key_hash(thing_name, job_id, execution_number));
}

bool done_set::contains_hash(std::uint64_t h) const noexcept {
    if (slots_.empty()) return false;
    if (h == 0) h = 1;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
        if (slots_[i] == h) return true;
        if (slots_[i] == 0) return false;
    }
}

void done_set::insert_hash(std::uint64_t h) {
    if (h == 0) h = 1;
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
        if (slots_[i] == h) return;
        if (slots_[i] == 0) {
            slots_[i] = h;
            ++count_;
            return;
        }
    }
}

void done_set::grow() {
    std::vector<std::uint64_t> old(slots_.empty() ? 1024 : slots_.size() * 2, 0);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const std::uint64_t h : old) {
        if (h == 0) continue;
        std::size_t i = static_cast<std::size_t>(h) & mask;
        while (slots_[i] != 0) i = (i + 1) & mask;
        slots_[i] = h;
    }
}

done_set::load_result done_set::load(std::istream& report) {
    load_result res;
    std::string line;
    unsigned char scratch[4096];
    while (std::getline(report, line)) {
        const bool last_without_newline = report.eof();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        ++res.lines;

        json::monotonic_resource mr(scratch, sizeof scratch);
        error_code ec;
        const json::value v = json::parse(line, ec, &mr);
        const json::object* o = ec ? nullptr : v.if_object();
        const json::string* thing = nullptr;
        const json::string* job = nullptr;
        const json::string* outcome = nullptr;
        std::int64_t number = 0;
        bool ok = false;
        int kind = -1;
        if (o) {
            auto str = [&](std::string_view key) -> const json::string* {
                const json::value* m = o->if_contains(key);
                return m ? m->if_string() : nullptr;
            };
            thing = str("thingName");
            job = str("jobId");
            outcome = str("outcome");
            const json::value* n = o->if_contains("executionNumber");
            const std::int64_t* ni = n ? n->if_int64() : nullptr;
            if (ni) number = *ni;
            kind = outcome ? classify_outcome(std::string_view(outcome->data(), outcome->size())) : -1;
            ok = thing && job && ni && kind >= 0;
        }
        if (!ok) {
            if (last_without_newline)
                res.truncated_last_line = true;
            else
                ++res.malformed;
            continue;
        }
        if (kind == 1) {
            insert_hash(key_hash(std::string_view(thing->data(), thing->size()),
                                 std::string_view(job->data(), job->size()), number));
            ++res.finished;
        }
    }
    malformed_ += res.malformed;
    return res;
}

}  // namespace iotjobs::detail
