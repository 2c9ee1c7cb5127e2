// Fuzz target: the bulk-delete input readers (lib/bulk/sources.cpp make_stream_source): CSV with a
// header row and JSON Lines, automatic detection, line splitting, the 64 KiB line limit, and the
// model's validation of every item (lib/jobs/wire.cpp).
//
// Input: byte 0 selects the format (n % 3: automatic, csv, jsonl), the rest is the file.
// Checks: items come in line order; an item not marked invalid passes validate().
#include "fuzz_input.hpp"

#include <iotjobs/bulk_delete.hpp>
#include <iotjobs/delete_job_execution.hpp>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iotjobs;
    std::string_view in = fuzz::as_text(data, size);
    const auto format = static_cast<input_format>(fuzz::next_byte(in) % 3);
    std::istringstream stream{std::string(in)};
    auto source = make_stream_source(stream, format);
    std::uint64_t last_line = 0;
    // Every call takes at least one line (or ends): at most one pull per byte, plus the end.
    for (std::size_t calls = 0; calls <= in.size() + 2; ++calls) {
        std::optional<std::pair<error_code, bulk_source::pull>> r;
        source->async_next([&](error_code ec, bulk_source::pull p) { r.emplace(ec, std::move(p)); });
        if (!r) std::abort();  // completes at once (system executor)
        auto& [ec, p] = *r;
        if (ec) {
            if (p.item) std::abort();
            return 0;
        }
        if (!p.item) return 0;  // the end
        if (p.item->line <= last_line) std::abort();
        last_line = p.item->line;
        if (!p.invalid && validate(p.item->request)) std::abort();
    }
    std::abort();  // never ended
}
