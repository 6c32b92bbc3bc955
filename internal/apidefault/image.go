package apidefault

import (
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PullPolicy returns the image pull policy the API server defaults for an
// image reference (containers' imagePullPolicy, image volumes' pullPolicy):
//
//  1. Always when the reference parses and its tag is "latest" or it has
//     neither tag nor digest ("nginx", "nginx:latest");
//  2. IfNotPresent otherwise: another tag, a digest without tag, or a
//     reference that does not parse (including "", upper case names and
//     unsupported digests).
//
// Parsing follows github.com/distribution/reference v0.6.0
// ParseNormalizedNamed, as k8s.io/kubernetes v1.37.2
// pkg/util/parsers.ParseImageName uses it.
func PullPolicy(image string) corev1.PullPolicy {
	tag, digest, ok := parseImage(image)
	if ok && (tag == "latest" || tag == "" && digest == "") {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// The grammar of a normalized image reference
// (domain/path[:tag][@digest]).
var (
	pathComponent   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	domainComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domain          = `(?:` + domainComponent + `(?:\.` + domainComponent + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`
	path            = pathComponent + `(?:/` + pathComponent + `)*`
	tagPattern      = `[\w][\w.-]{0,127}`
	digestPattern   = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}`

	referenceRE = regexp.MustCompile(`^((?:` + domain + `/)?` + path + `)(?::(` + tagPattern + `))?(?:@(` + digestPattern + `))?$`)
	nameRE      = regexp.MustCompile(`^(?:(` + domain + `)/)?(` + path + `)$`)
	hex64RE     = regexp.MustCompile(`^[a-f0-9]{64}$`)

	// digestHexLen lists the digest algorithms the parser accepts (those
	// whose hash Kubernetes links in) with their hex length.
	digestHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
	lowerHexRE   = regexp.MustCompile(`^[a-f0-9]+$`)
)

// parseImage returns the tag and digest of a normalized image reference, and
// whether it parsed.
func parseImage(s string) (tag, digest string, ok bool) {
	if hex64RE.MatchString(s) {
		return "", "", false // an image ID, not a name
	}
	dom, rest := splitDomain(s)
	repo, _, _ := strings.Cut(rest, ":")
	if strings.ToLower(repo) != repo {
		return "", "", false
	}
	m := referenceRE.FindStringSubmatch(dom + "/" + rest)
	if m == nil {
		return "", "", false
	}
	if n := nameRE.FindStringSubmatch(m[1]); n != nil && len(n[2]) > 255 {
		return "", "", false
	}
	if m[3] != "" && !validDigest(m[3]) {
		return "", "", false
	}
	return m[2], m[3], true
}

// splitDomain splits a reference into registry domain and the rest, with
// Docker Hub's defaults ("nginx" is docker.io/library/nginx).
func splitDomain(s string) (dom, rest string) {
	first, after, found := strings.Cut(s, "/")
	switch {
	case !found:
		return "docker.io", "library/" + s
	case first == "localhost", strings.ContainsAny(first, ".:"), strings.ToLower(first) != first:
		dom, rest = first, after
	default:
		dom, rest = "docker.io", s
	}
	if dom == "index.docker.io" {
		dom = "docker.io"
	}
	if dom == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return dom, rest
}

func validDigest(d string) bool {
	alg, hex, _ := strings.Cut(d, ":")
	n, ok := digestHexLen[alg]
	return ok && len(hex) == n && lowerHexRE.MatchString(hex)
}
