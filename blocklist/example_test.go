package blocklist_test

import (
	"fmt"
	"strings"

	"mailscan/blocklist"
)

func ExampleParse() {
	const list = `# lab ranges
198.18.16.0/20      # target namespace
198.18.40.1-198.18.40.3
`
	targets, err := blocklist.Parse(strings.NewReader(list), "lab.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(targets, targets.Len())
	// Output: 198.18.16.0/20, 198.18.40.1-198.18.40.3 4099
}

func ExampleParse_errors() {
	_, err := blocklist.Parse(strings.NewReader("198.18.0.0/15\n198.18.0.300\n2001:db8::/32\n"), "block.txt")
	fmt.Println(err)
	// Output:
	// blocklist: block.txt:2: "198.18.0.300": invalid IPv4 address: IPv4 field has value >255
	// blocklist: block.txt:3: "2001:db8::/32": IPv6 is not supported (IPv4 only)
}

func ExampleSet_At() {
	r, _ := blocklist.ParseEntry("198.18.16.0/30")
	s := blocklist.NewSet(r).Subtract(blocklist.NewSet(blocklist.Range{First: r.First + 1, Last: r.First + 1}))
	for i := range s.Len() {
		fmt.Println(i, blocklist.AddrFromUint32(s.At(i)))
	}
	// Output:
	// 0 198.18.16.0
	// 1 198.18.16.2
	// 2 198.18.16.3
}
