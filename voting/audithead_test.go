package voting

import "testing"

func TestParseAuditHead(t *testing.T) {
	t.Parallel()
	hash := "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		in   string
		want AuditHead
		ok   bool
	}{
		{"12:" + hash, AuditHead{12, hash}, true},
		{" 12 : " + hash[:16] + " ", AuditHead{12, hash[:16]}, true},
		{"12:" + "0123456789ABCDEF", AuditHead{12, "0123456789abcdef"}, true},
		{"12:" + hash[:15], AuditHead{}, false},
		{"0:" + hash, AuditHead{}, false},
		{"-1:" + hash, AuditHead{}, false},
		{hash, AuditHead{}, false},
		{"12:" + hash[:15] + "g", AuditHead{}, false},
		{"x:" + hash, AuditHead{}, false},
	} {
		got, err := ParseAuditHead(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAuditHead(%q) = %+v, %v", tc.in, got, err)
		}
	}
	if s := (AuditHead{3, "ab"}).String(); s != "3:ab" {
		t.Errorf("String %q", s)
	}
}

func TestAuditHeadMatches(t *testing.T) {
	t.Parallel()
	log := []AuditEntry{{Seq: 1, Hash: "aaaaaaaaaaaaaaaa11"}, {Seq: 2, Hash: "bbbbbbbbbbbbbbbb22"}}
	for _, tc := range []struct {
		head AuditHead
		ok   bool
	}{
		{AuditHead{2, "bbbbbbbbbbbbbbbb22"}, true},
		{AuditHead{2, "bbbbbbbbbbbbbbbb"}, true},
		{AuditHead{1, "aaaaaaaaaaaaaaaa"}, true},
		{AuditHead{2, "aaaaaaaaaaaaaaaa"}, false},
		{AuditHead{3, "cccccccccccccccc"}, false},
	} {
		if ok, why := tc.head.Matches(log); ok != tc.ok || (!ok && why == "") {
			t.Errorf("%v: %v %q", tc.head, ok, why)
		}
	}
}
