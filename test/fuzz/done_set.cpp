// Fuzz target: the --skip-done report reader (lib/bulk/report.cpp done_set::load), the re-read of
// a skipped item's earlier line (earlier_line) and its carrying into the new report (carried_line).
//
// Input: an earlier report (JSON Lines). The same text read as bulk JSON Lines input gives the items
// to look up (a report line is valid input), so earlier_line and carried_line see the lines
// load() kept.
#include "bulk/report.hpp"
#include "fuzz_input.hpp"

#include <iotjobs/bulk_delete.hpp>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs;
    const std::string text(fuzz::as_text(data, size));
    std::istringstream report{text};
    detail::done_set done;
    const auto r = done.load(report);
    if (r.finished + r.malformed > r.lines) std::abort();
    if (done.size() > r.finished) std::abort();

    std::istringstream input{text};
    auto source = make_stream_source(input, input_format::jsonl);
    for (std::size_t calls = 0; calls <= text.size() + 2; ++calls) {
        std::optional<std::pair<error_code, bulk_source::pull>> pulled;
        source->async_next([&](error_code ec, bulk_source::pull p) { pulled.emplace(ec, std::move(p)); });
        if (!pulled || pulled->first || !pulled->second.item) return 0;
        const bulk_item& item = *pulled->second.item;
        const bool contained = done.contains(item.request);
        if (auto earlier = done.earlier_line(item.request)) {
            if (!contained) std::abort();
            std::string out;
            bulk_outcome_kind kind{};
            if (detail::carried_line(*earlier, item.line, out, kind)) {
                if (out.empty() || out.back() != '\n') std::abort();
                if (kind != bulk_outcome_kind::deleted && kind != bulk_outcome_kind::not_found) std::abort();
            }
        }
    }
    return 0;
}
