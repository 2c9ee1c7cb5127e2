// The bulk engine's entry point for runs that must share a strand (the fan-out: every key's run
// delivers its outcomes on the fan-out's strand, so the outcome handler is never called
// concurrently). bulk_delete() is the same with a strand of its own.
#pragma once

#include <iotjobs/bulk_delete.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include <memory>

namespace iotjobs::detail {

void async_bulk_delete_on(boost::asio::strand<boost::asio::any_io_executor> strand, std::shared_ptr<client_impl> c,
                          bulk_source& source, bulk_options options, bulk_outcome_handler on_outcome,
                          boost::asio::any_completion_handler<bulk_signature> handler);

// The outcome of a pull whose line is invalid (p.item and p.invalid set): nothing is sent for it.
bulk_outcome invalid_input_outcome(bulk_source::pull p);

}  // namespace iotjobs::detail
