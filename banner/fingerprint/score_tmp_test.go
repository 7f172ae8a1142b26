package fingerprint

import (
	"fmt"
	"testing"
)

func TestScoreTmp(t *testing.T) {
	rows := loadRecogExamples(t)
	ok := 0
	for _, r := range rows {
		fp, _ := Builtin().Match(r.proto, r.text)
		if fp.Vendor == r.vendor && fp.Product == r.product {
			ok++
		} else {
			fmt.Printf("%s\t%s\t%q\twant %q/%q/%q\tgot %q/%q/%q\n", r.src, r.proto, r.text, r.vendor, r.product, r.version, fp.Vendor, fp.Product, fp.Version)
		}
	}
	fmt.Printf("SCORE %d/%d\n", ok, len(rows))
}
