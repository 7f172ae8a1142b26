package cookie_test

import (
	"fmt"

	"mailscan/syn/cookie"
)

func Example() {
	key, err := cookie.NewKey() // one per scan
	if err != nil {
		panic(err)
	}
	c, err := cookie.New(key, 32768, 60999)
	if err != nil {
		panic(err)
	}
	const us, them = 0xc6120001, 0xc6121005 // 198.18.0.1, 198.18.16.5

	// Sender: the probe to them:993.
	sport, seq := c.Probe(us, them, 993)

	// Receiver: their SYN-ACK comes back from 993 to sport, acknowledging seq+1.
	fmt.Println(c.Check(us, them, 993, sport, seq+1))
	// Backscatter from the same host to another port of ours does not pass.
	fmt.Println(c.Check(us, them, 993, sport^1, seq+1))
	// Output:
	// true
	// false
}
