// DurableIngest: the gateway's inbound HL7v2 pipeline — journal first, ACK after commit.
//
// Each message handed to submit() is parsed, validated and mapped (hl7v2→care profiles), then
// written with its journal entry, its care-model changes and their Provenance in one store
// transaction; its ACK is produced only after that transaction has committed.
//
// Invariants (the design's "journal first"; numbered so tests and comments can cite them):
//  I1. `done` receives an ACK only after Store::apply() has returned for the transaction that
//      holds the message's journal entry (and, when accepted, its entity writes). With the
//      SQLite store that commit is fsynced (synchronous=FULL).
//  I2. Every message that reaches the writer gets a journal entry: accepted, rejected (with
//      the reason: parse error, structural error, failed required mapping rule, no profile,
//      a change the stored state refuses such as discharging a cancelled visit: AE),
//      duplicate (same sending application, facility and MSH-10 as a message accepted before,
//      stored, or earlier in the batch or in one still committing: ACKed again, nothing
//      changes, and no writes are built for it, so the later messages of the batch build on
//      versions that are really written) or
//      failed (the store refused its writes, or the change would not read back: a stored entity
//      it touches fails the model's checks, or the merged result would; that message alone).
//  I3. One resolving thread takes messages in submission order and one committing thread
//      applies the batches it builds in that same order, so one connection's messages, and the
//      changes to one patient across connections, are applied in the order submitted.
//      Within a batch too: the RecordWriter of the batch builds each message's changes on the
//      versions the earlier messages of the batch wrote (entities created earlier in the batch
//      are found, not created twice), for every entity type.
//  I4. Group commit: everything queued when the resolver wakes (up to max_batch) shares one
//      transaction and one fsync.
//  I6. Pipelining: the resolver builds batch n+1 (matching, merging: reads of the store plus
//      its memory of what batches n and earlier wrote, RecordWriter) while batch n commits. It
//      waits while a built batch is still waiting for the committer, so batches grow under load
//      instead of queueing. Should batch n fail as a whole (I5), every batch built before the
//      resolver learned of it is answered as I5 too without being applied: it was built on
//      writes that never happened. The store lookups of one batch share one read snapshot
//      (Store::read_scope), opened after the resolver has dropped from its memory the batches
//      known to be committed: those are in the snapshot, and any batch not yet known to be
//      committed is still in the memory, which lookups consult first.
//  I5. When the store cannot commit at all (disk full, I/O error), nothing is journaled and
//      each message gets AR (CR in enhanced mode) with error 207, asking the sender to resend.
//
// Every entity the profiles produce is matched to what is stored, merged with it and given its
// id by RecordWriter (record_writer.h: the matching keys, the merge rules, the encounter state
// machine and A40 merges): a match becomes a new version, otherwise a new entity is created.
//
// Threading: submit() may be called from any thread, and parses, validates and maps the message
// on that thread before queueing it (nothing there reads the store, so I1-I6 are unaffected:
// queue order is still commit order); `done` is called on the committing thread, which also
// builds the ACKs. stop() (or the destructor) finishes what is queued, then joins both threads.
// The two threads are named "ingest-resolve" and "ingest-commit" (per-thread CPU in top -H,
// perf, /proc/PID/task; benchmarks/mllp_load_bench prints it per message).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mapping/profile.h"
#include "server/ingest.h"
#include "store/store.h"

namespace midhurst::server {

class DurableIngest : public Ingest {
 public:
  struct Options {
    size_t max_batch = 256;  // messages in one transaction at most
  };

  // `store` and `profiles` must outlive this object.
  DurableIngest(store::Store& store, const mapping::ProfileStore& profiles, Options options);
  DurableIngest(store::Store& store, const mapping::ProfileStore& profiles)
      : DurableIngest(store, profiles, Options{}) {}
  ~DurableIngest() override;

  void submit(std::string message, IngestSource source, Done done) override;

  // Finishes every message already submitted, then stops the writer. Later submissions are
  // answered at once with AR (CR) 207 "the gateway is shutting down". Idempotent.
  void stop();

 private:
  // What can be worked out from a message alone (parse, validate, map): done by prepare() on
  // the submitting thread, so the single writer is left with only what needs the store and
  // its order (patient matching, ids, the transaction, ACKs). Defined in the .cc.
  struct Prepared;

  struct Item {
    std::string message;
    IngestSource source;
    Done done;
    std::unique_ptr<Prepared> prepared;
  };

  // A batch built by the resolver, waiting for (or in) its commit, and the resolver's memory
  // across batches. Defined in the .cc.
  struct Built;
  struct Resolver;

  std::unique_ptr<Prepared> prepare(const std::string& message) const;
  void resolve_loop();
  void commit_loop();
  std::unique_ptr<Built> build(std::deque<Item> items, Resolver& resolver);
  void commit(Built& built);

  store::Store& store_;
  const mapping::ProfileStore& profiles_;
  Options options_;
  std::mutex mu_;
  std::condition_variable wake_;       // the resolver: messages queued, or stopping
  std::condition_variable built_cv_;   // the committer: a batch built; the resolver: it was taken
  std::deque<Item> queue_;             // GUARDED_BY(mu_)
  std::unique_ptr<Built> built_;       // GUARDED_BY(mu_): built, not yet taken by the committer
  bool stopping_ = false;              // GUARDED_BY(mu_)
  bool resolved_all_ = false;          // GUARDED_BY(mu_): the resolver has exited
  std::uint64_t committed_ = 0;        // GUARDED_BY(mu_): the last batch applied successfully
  std::uint64_t failures_ = 0;         // GUARDED_BY(mu_): batches the store could not commit
  std::thread resolver_;
  std::thread committer_;
};

}  // namespace midhurst::server
