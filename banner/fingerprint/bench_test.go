package fingerprint

import "testing"

// BenchmarkMatch matches every greeting of the test table once per iteration
// against the built-in rules; ns/op is per greeting.
func BenchmarkMatch(b *testing.B) {
	benchmarkMatch(b, Builtin())
}

// BenchmarkMatchNoPrefilter shows what the literal prefilter saves.
func BenchmarkMatchNoPrefilter(b *testing.B) {
	benchmarkMatch(b, withoutPrefilter(Builtin()))
}

// BenchmarkMatchWithRecog adds the test Recog database after the built-ins.
func BenchmarkMatchWithRecog(b *testing.B) {
	db, err := LoadRecog("testdata/recog")
	if err != nil {
		b.Fatal(err)
	}
	benchmarkMatch(b, Builtin().WithRecog(db))
}

func benchmarkMatch(b *testing.B, m *Matcher) {
	rows := loadGreetings(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		row := rows[i%len(rows)]
		m.Match(row.proto, row.greeting)
	}
}

// BenchmarkMatchMiss is the common case of a scan: a greeting no rule knows.
func BenchmarkMatchMiss(b *testing.B) {
	m := Builtin()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Match("smtp", "220 mx.example.net ESMTP ready")
	}
}
