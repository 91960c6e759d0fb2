package bot

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Phone is a number a client wants to port, split the way Graph wants it.
type Phone struct {
	E164     string // "+5511987654321"
	CC       string // "55"
	National string // "11987654321"
	Region   string // "BR"
	Mobile   bool
	// NoNine marks a Brazilian mobile typed without the extra 9 that
	// Brazil added to mobiles: kept as typed, since the number must match
	// the WhatsApp profile exactly, and some profiles still lack the 9.
	NoNine bool
}

// Why a typed number was refused; the engine turns these into advice.
var (
	ErrPhoneEmpty     = errors.New("no phone number")
	ErrPhoneInvalid   = errors.New("not a valid phone number")
	ErrPhoneNeedsCode = errors.New("number needs its country code")
)

// maxPhoneInput bounds what is handed to the parser: a phone number with
// spaces and punctuation never needs more.
const maxPhoneInput = 40

// ParsePhone reads a number as clients type it ("+55 11 98765-4321",
// "5511987654321", "(11) 98765-4321"). Numbers without a "+" are first read
// in region; if that fails and the digits start with a country code, they
// are read as international.
func ParsePhone(text, region string) (Phone, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Phone{}, ErrPhoneEmpty
	}
	if len(text) > maxPhoneInput || strings.IndexFunc(text, unicode.IsLetter) >= 0 {
		return Phone{}, ErrPhoneInvalid
	}
	if strings.HasPrefix(text, "+") {
		text = "+" + oldMexicanMobile(Digits(text))
	}
	if p, ok := parseIn(text, region); ok {
		return p, nil
	}
	if p, ok := brazilWithoutNine(text, region); ok {
		return p, nil
	}
	if !strings.HasPrefix(text, "+") {
		digits := oldMexicanMobile(strings.TrimPrefix(Digits(text), "00"))
		if p, ok := parseIn("+"+digits, ""); ok {
			return p, nil
		}
		if p, ok := brazilWithoutNine("+"+digits, ""); ok {
			return p, nil
		}
		// A number that is valid nowhere when read as local but has enough
		// digits to be foreign most likely lacks its country code.
		if len(digits) >= 8 {
			return Phone{}, ErrPhoneNeedsCode
		}
	}
	return Phone{}, ErrPhoneInvalid
}

// oldMexicanMobile drops the "1" Mexican mobiles carried after +52 until
// 2019 ("+52 1 55 1234 5678"), which people still type: the number is the
// same without it, and only that form is valid now.
func oldMexicanMobile(digits string) string {
	if len(digits) == 13 && strings.HasPrefix(digits, "521") {
		return "52" + digits[3:]
	}
	return digits
}

// brazilWithoutNine reads a Brazilian mobile typed without the 9 that
// Brazil put in front of every mobile (+55 11 8765-4321): valid once the 9
// is in, it is kept as typed.
func brazilWithoutNine(text, region string) (Phone, bool) {
	n, err := phonenumbers.Parse(text, region)
	if err != nil || n.GetCountryCode() != 55 {
		return Phone{}, false
	}
	national := phonenumbers.GetNationalSignificantNumber(n)
	if len(national) != 10 || !strings.ContainsRune("6789", rune(national[2])) {
		return Phone{}, false
	}
	with9, ok := parseIn("+55"+national[:2]+"9"+national[2:], "")
	if !ok || !with9.Mobile {
		return Phone{}, false
	}
	return Phone{E164: "+55" + national, CC: "55", National: national, Region: "BR", Mobile: true, NoNine: true}, true
}

func parseIn(text, region string) (Phone, bool) {
	n, err := phonenumbers.Parse(text, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return Phone{}, false
	}
	t := phonenumbers.GetNumberType(n)
	return Phone{
		E164:     phonenumbers.Format(n, phonenumbers.E164),
		CC:       strconv.Itoa(int(n.GetCountryCode())),
		National: phonenumbers.GetNationalSignificantNumber(n),
		Region:   phonenumbers.GetRegionCodeForNumber(n),
		Mobile:   t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE,
	}, true
}

// MaskPhone hides the middle of a number for logs and Slack:
// "+5511987654321" becomes "+55*******4321", and a BSUID
// "BR.1502576394655843" becomes "BR.****5843".
func MaskPhone(s string) string {
	if cc, id, ok := strings.Cut(s, "."); ok && !IsPhoneID(strings.TrimPrefix(s, "+")) {
		// A BSUID ("BR.1502576394655843", "US.ENT.…"): its country and
		// last four characters are enough to tell two apart in a log.
		if len(cc) > 3 {
			cc = "??"
		}
		return cc + ".****" + id[max(len(id)-4, 0):]
	}
	digits := strings.TrimPrefix(s, "+")
	if len(digits) <= 6 {
		return "+" + strings.Repeat("*", len(digits))
	}
	return "+" + digits[:2] + strings.Repeat("*", len(digits)-6) + digits[len(digits)-4:]
}

// numberIn returns the number in a message that says more than the number
// ("my number is +55 11 98765-4321", "WABA id: 102290129340398"): the one
// run of digits and phone punctuation with at least 8 digits. A question,
// or a message with two such runs, gets nothing: which one was meant, or
// whether one was given at all, is not for the bot to guess.
func numberIn(text string) (string, bool) {
	if len(text) > 400 || strings.Contains(text, "?") || strings.IndexFunc(text, unicode.IsLetter) < 0 {
		return "", false
	}
	var found string
	for i := 0; i < len(text); {
		if c := text[i]; c != '+' && c != '(' && (c < '0' || c > '9') {
			i++
			continue
		}
		j, digits := i, 0
		for ; j < len(text) && strings.IndexByte("+0123456789 ()-./", text[j]) >= 0; j++ {
			if text[j] >= '0' && text[j] <= '9' {
				digits++
			}
		}
		if digits >= 8 {
			if found != "" {
				return "", false
			}
			found = strings.Trim(text[i:j], " -./")
		}
		i = j
	}
	return found, found != ""
}

// countryIn is where a number is, as a sentence says it in l: "in the
// United States", "no Brasil", "en México". region may also be a country's
// name, as findings stored before carry it.
func countryIn(region string, l Lang) string {
	name, article := countryNameArticle(region, l)
	switch l {
	case Portuguese:
		// em + o = no, em + a = na, em + os = nos, em + as = nas.
		if article == "" {
			return "em " + name
		}
		return "n" + article + " " + name
	case Spanish:
		return strings.Join(nonEmpty("en", article, name), " ")
	}
	return strings.Join(nonEmpty("in", article, name), " ")
}

// countryWithArticle is a country as the object of "for" or "para": "the
// United States", "o Brasil", "México".
func countryWithArticle(region string, l Lang) string {
	name, article := countryNameArticle(region, l)
	return strings.Join(nonEmpty(article, name), " ")
}

func nonEmpty(words ...string) []string {
	return slices.DeleteFunc(words, func(w string) bool { return w == "" })
}

// countryArticles is the article a country's name takes inside a sentence
// in Portuguese and Spanish, for the countries that take one ("o Brasil",
// "os Estados Unidos", "el Reino Unido"); the others go bare ("Portugal",
// "México"). English is told by the name itself (englishArticle).
var countryArticles = map[Lang]map[string]string{
	Portuguese: {
		"BR": "o", "CL": "o", "PE": "o", "UY": "o", "PY": "o", "MX": "o", "CA": "o", "JP": "o",
		"EC": "o", "PA": "o", "GB": "o", "EG": "o", "MA": "o", "LB": "o", "PK": "o", "VN": "o",
		"IR": "o", "IQ": "o", "KE": "o", "SN": "o", "HT": "o",
		"AR": "a", "CO": "a", "VE": "a", "BO": "a", "GT": "a", "NI": "a", "CR": "a", "DO": "a",
		"ES": "a", "FR": "a", "IT": "a", "DE": "a", "IN": "a", "CN": "a", "ZA": "a", "RU": "a",
		"TR": "a", "AU": "a", "NZ": "a", "CH": "a", "BE": "a", "IE": "a", "SE": "a", "NO": "a",
		"FI": "a", "PL": "a", "GR": "a", "AT": "a", "HU": "a", "RO": "a", "UA": "a", "NG": "a",
		"SA": "a", "KR": "a", "ID": "a", "MY": "a", "TH": "a", "DK": "a", "CZ": "a",
		"US": "os", "NL": "os", "AE": "os",
		"PH": "as", "BS": "as",
	},
	Spanish: {"GB": "el", "NL": "los", "AE": "los"},
}

// englishArticle says whether an English country name takes "the": the
// names of unions, republics, kingdoms and islands, and plural names.
func englishArticle(name string) bool {
	for _, w := range []string{"United ", "Republic", "Islands", "Netherlands", "Philippines", "Bahamas",
		"Gambia", "Maldives", "Comoros", "Seychelles"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// countryNameArticle is region's name in l and the article it takes there.
func countryNameArticle(region string, l Lang) (name, article string) {
	name = countryName(region, l)
	if name == region && len(region) != 2 {
		return name, "" // a name stored before: said as it was
	}
	if l == English || l == "" {
		if englishArticle(name) {
			return name, "the"
		}
		return name, ""
	}
	return name, countryArticles[l][region]
}

// countryName is region ("BR") as a client reads it in l ("Brasil"): a
// region code means nothing to most people.
func countryName(region string, l Lang) string {
	r, err := language.ParseRegion(region)
	if err != nil {
		return region
	}
	var n display.Namer
	switch l {
	case Portuguese:
		n = display.Portuguese.Regions()
	case Spanish:
		n = display.Spanish.Regions()
	default:
		n = display.English.Regions()
	}
	if name := n.Name(r); name != "" {
		return name
	}
	return region
}
