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

// BenchmarkMatchFacts fingerprints the facts of every lab transcript once per
// iteration (ns/op is per result): the cost the banner stage and
// `fingerprint -i` pay per result.
func BenchmarkMatchFacts(b *testing.B) {
	trs := loadTranscripts(b)
	m := Builtin()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr := &trs[i%len(trs)]
		m.MatchFacts(&tr.facts)
	}
}

// BenchmarkMatchFactsMiss is a result no rule knows: a generic greeting,
// capabilities and HELP text.
func BenchmarkMatchFactsMiss(b *testing.B) {
	f := &Facts{Protocol: "smtp", Greeting: "220 mx.example.net ESMTP ready",
		CapsBefore: []string{"SIZE 10240000", "PIPELINING", "STARTTLS", "8BITMIME"}, Help: "214 see RFC 5321", Goodbye: "221 bye"}
	m := Builtin()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.MatchFacts(f)
	}
}
