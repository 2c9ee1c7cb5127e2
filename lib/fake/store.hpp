// Compact in-memory execution store of the fake server. Not thread-safe: the server guards it
// with a shared_mutex.
//
// Layout (about 60 bytes per execution at 1M executions with 1M distinct things):
//  - thing names, job ids and namespace ids are interned (one char arena + open-addressing index);
//  - `records_`: one 40-byte record per execution, sorted by (thing id, job id, number);
//  - `by_job_`: record positions sorted by (job id, thing id, number), for ListJobExecutionsForJob.
// Deletes leave a tombstone (skipped everywhere); tombstones are compacted once they outnumber
// live records. Interned ids never change, so a pagination cursor (the last key returned) stays
// valid across deletes, compactions and inserts.
#pragma once

#include "fake/server.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotjobs::fake::detail {

class interner {
public:
    std::optional<std::uint32_t> find(std::string_view s) const noexcept;
    std::uint32_t intern(std::string_view s);
    std::string_view name(std::uint32_t id) const noexcept {
        return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
    }
    std::size_t size() const noexcept { return offsets_.size() - 1; }

private:
    void grow();
    std::string arena_;
    std::vector<std::uint32_t> offsets_{0};
    std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(64, 0);  // id + 1, 0 = empty
};

struct record {
    std::uint32_t thing;
    std::uint32_t job;
    std::int64_t number;
    std::uint32_t queued_at;
    std::uint32_t started_at;  // 0: never started
    std::uint32_t updated_at;
    std::uint32_t version;
    std::uint16_t ns;  // 0: none; else namespace id + 1
    std::uint8_t status;
    std::uint8_t flags;  // bit 0: deleted, bit 1: force canceled
    bool deleted() const noexcept { return flags & 1; }
    execution_status st() const noexcept { return static_cast<execution_status>(status); }
};

// Cursor of a list call: the last (id, number) returned in the list's order.
struct cursor {
    std::uint32_t id = 0;  // thing id (ForJob) or job id (ForThing)
    std::int64_t number = 0;
};

class store {
public:
    // Upserts; returns how many were new.
    std::size_t add(const std::vector<execution>& items, std::uint32_t now);
    void generate(const generate_options& g, std::uint32_t now);

    record* find(std::string_view thing, std::string_view job, std::int64_t number);
    record* latest(std::string_view thing, std::string_view job);  // highest live number
    void erase(record* r);

    std::size_t live() const noexcept { return live_; }
    std::uint64_t deleted_total() const noexcept { return deleted_total_; }

    std::string_view thing_name(const record& r) const noexcept { return things_.name(r.thing); }
    std::string_view job_id(const record& r) const noexcept { return jobs_.name(r.job); }
    std::string_view namespace_id(const record& r) const noexcept {
        return r.ns ? namespaces_.name(r.ns - 1u) : std::string_view{};
    }
    // An id for a namespace name, or nullopt if no execution ever had it.
    std::optional<std::uint16_t> namespace_ref(std::string_view ns) const noexcept;

    struct list_filter {
        std::optional<execution_status> status;
        std::optional<std::uint16_t> ns;   // ForThing: only this namespace (ns ref); nullopt: any
        std::optional<std::uint32_t> job;  // ForThing jobId filter
    };
    // Appends up to `max` live matches after `after` to `out`; returns the cursor of the last one
    // if more matches exist after it.
    std::optional<cursor> list_for_job(std::string_view job, const list_filter& f, const std::optional<cursor>& after,
                                       std::size_t max, std::vector<const record*>& out) const;
    std::optional<cursor> list_for_thing(std::string_view thing, const list_filter& f,
                                         const std::optional<cursor>& after, std::size_t max,
                                         std::vector<const record*>& out) const;
    std::optional<std::uint32_t> job_ref(std::string_view job) const noexcept { return jobs_.find(job); }

    template <class F>
    void for_each_live(F&& f) const {
        for (auto& r : records_)
            if (!r.deleted()) f(r);
    }
    execution to_execution(const record& r) const;

private:
    std::size_t add_records(std::vector<record>& pending);
    void rebuild_index();
    void maybe_compact();
    std::size_t lower_bound(std::uint32_t thing, std::uint32_t job, std::int64_t number) const noexcept;

    interner things_, jobs_, namespaces_;
    std::vector<record> records_;
    std::vector<std::uint32_t> by_job_;
    std::size_t live_ = 0;
    std::size_t tombstones_ = 0;
    std::uint64_t deleted_total_ = 0;
};

}  // namespace iotjobs::fake::detail
