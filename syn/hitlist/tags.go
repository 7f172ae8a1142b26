package hitlist

// mailTags names the protocol each mail port usually serves, as the banner
// stage speaks it and as the sections of WriteZGrab2INI are triggered. The
// table lives here, not in package banner, because syn must not depend on
// banner.
var mailTags = [...]struct {
	port uint16
	tag  string
}{
	{25, "smtp"},
	{110, "pop3"},
	{143, "imap"},
	{465, "smtps"},
	{587, "submission"},
	{993, "imaps"},
	{995, "pop3s"},
}

// PortTag returns the name of the mail protocol served on port by
// convention (25 smtp, 465 smtps, 587 submission, 110 pop3, 995 pop3s, 143
// imap, 993 imaps), or "" for any other port.
func PortTag(port uint16) string {
	for _, t := range mailTags {
		if t.port == port {
			return t.tag
		}
	}
	return ""
}

// TagPort is the inverse of PortTag: the conventional port of a mail
// protocol's name.
func TagPort(tag string) (uint16, bool) {
	for _, t := range mailTags {
		if t.tag == tag {
			return t.port, true
		}
	}
	return 0, false
}
