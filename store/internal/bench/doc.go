// Package bench holds the benchmarks that compare the stores side by side, in one run:
//
//		go test -run '^$' -bench . -benchmem ./store/internal/bench/
//
//	  - BenchmarkPutInto10k: one Put into a store of 10,000 records: FileStore (rewrites the
//	    whole file), SQLite, PostgreSQL.
//	  - BenchmarkList1000: List of 1,000 records, plain and sealed (over a MemoryStore, so
//	    the difference is the sealing); ns/record is reported.
//	  - BenchmarkFeedLatency: an update through one Catalog's store seen on another
//	    handle's change feed (another Store on the same SQLite file, another PostgreSQL
//	    replica); p99-ms over 100 changes per op.
//	  - BenchmarkReseal10k: a re-seal pass of 10,000 records after a key rotation (sealed
//	    SQLite).
//
// PostgreSQL runs through internal/testenv (Debian's postgresql 15); without it those
// sub-benchmarks are skipped loudly.
package bench
