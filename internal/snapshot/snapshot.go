package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Objects are the decoded objects of one snapshot, in input order.
type Objects struct {
	// DaemonSet is the one DaemonSet of [Decode]'s input; nil from
	// [DecodeAll].
	DaemonSet *appsv1.DaemonSet
	// DaemonSets are the DaemonSets of [DecodeAll]'s input; nil from
	// [Decode].
	DaemonSets []*appsv1.DaemonSet
	Nodes      []*corev1.Node
	Pods       []*corev1.Pod
	Revisions  []*appsv1.ControllerRevision
	// RuntimeClasses are the node.k8s.io/v1 RuntimeClasses of
	// [DecodeAll]'s input; [Decode] skips them with a warning.
	RuntimeClasses []*nodev1.RuntimeClass
	// Warnings name the skipped objects of other kinds, in input order.
	Warnings []string
}

// apiVersions maps each kind Decode reads to the apiVersion it requires.
var apiVersions = map[string]string{
	"DaemonSet":          "apps/v1",
	"Node":               "v1",
	"Pod":                "v1",
	"ControllerRevision": "apps/v1",
}

// runtimeClassAPIVersion is the apiVersion of the RuntimeClasses DecodeAll
// reads.
const runtimeClassAPIVersion = "node.k8s.io/v1"

// Decode reads one YAML or JSON stream of cluster objects holding exactly
// one DaemonSet; see the package documentation for the rules. On error it
// returns the zero Objects.
func Decode(data []byte) (Objects, error) {
	d, err := decodeStream(data, false)
	if err != nil {
		return Objects{}, err
	}
	switch len(d.daemonSets) {
	case 0:
		return Objects{}, errors.New("no apps/v1 DaemonSet in the input")
	case 1:
	default:
		return Objects{}, fmt.Errorf("%d DaemonSets in the input (%s), want exactly one",
			len(d.daemonSets), strings.Join(d.daemonSetWhere, ", "))
	}
	d.objs.DaemonSet = d.daemonSets[0]
	return d.objs, nil
}

// DecodeAll reads one YAML or JSON stream of cluster objects, as Decode,
// but with any number of DaemonSets (none included), returned in
// Objects.DaemonSets in input order, and with node.k8s.io/v1
// RuntimeClasses in Objects.RuntimeClasses; Objects.DaemonSet is nil. It is
// for `kubectl get daemonsets,nodes,pods,runtimeclasses -A -o yaml`. An
// empty stream gives the zero Objects. On error it returns the zero
// Objects.
func DecodeAll(data []byte) (Objects, error) {
	d, err := decodeStream(data, true)
	if err != nil {
		return Objects{}, err
	}
	d.objs.DaemonSets = d.daemonSets
	return d.objs, nil
}

// decodeStream decodes every document of data; all selects DecodeAll's
// kinds.
func decodeStream(data []byte, all bool) (*decoder, error) {
	var docs []json.RawMessage
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs), err)
		}
		docs = append(docs, raw)
	}
	d := &decoder{all: all}
	for i, raw := range docs {
		prefix := ""
		if len(docs) > 1 {
			prefix = "document " + strconv.Itoa(i)
		}
		if err := d.add(raw, prefix); err != nil {
			return nil, err
		}
	}
	return d, nil
}

type decoder struct {
	all            bool // DecodeAll: RuntimeClasses are read
	objs           Objects
	daemonSets     []*appsv1.DaemonSet
	daemonSetWhere []string
}

// header is what Decode reads of every object before decoding it by kind.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// add decodes one object or list at path (the document or item path, ""
// for a lone document).
func (d *decoder) add(raw json.RawMessage, path string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	where := path
	if where == "" {
		where = "document 0"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("%s: not a Kubernetes object or List: %w", where, err)
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	switch name := objectName(fields); {
	case name != "" && h.Kind != "":
		where += fmt.Sprintf(" (%s %q)", h.Kind, name)
	case name != "":
		where += fmt.Sprintf(" (%q)", name)
	case h.Kind != "":
		where += " (" + h.Kind + ")"
	}
	if h.Kind == "" {
		return fmt.Errorf("%s: no kind: not a Kubernetes object or List", where)
	}
	if strings.HasSuffix(h.Kind, "List") {
		var items []json.RawMessage
		if rawItems, ok := fields["items"]; ok {
			if err := json.Unmarshal(rawItems, &items); err != nil {
				return fmt.Errorf("%s: items: %w", where, err)
			}
		}
		for i, it := range items {
			p := fmt.Sprintf("items[%d]", i)
			if path != "" {
				p = path + " " + p
			}
			if err := d.add(it, p); err != nil {
				return err
			}
		}
		return nil
	}
	want, known := apiVersions[h.Kind]
	if d.all && h.Kind == "RuntimeClass" {
		want, known = runtimeClassAPIVersion, true
	}
	if !known {
		d.objs.Warnings = append(d.objs.Warnings, fmt.Sprintf("%s: skipped: dsplan reads no %s %s", where, h.APIVersion, h.Kind))
		return nil
	}
	if h.APIVersion != want {
		return fmt.Errorf("%s: apiVersion %q, want %q for kind %s", where, h.APIVersion, want, h.Kind)
	}
	var err error
	switch h.Kind {
	case "DaemonSet":
		ds := &appsv1.DaemonSet{}
		if err = json.Unmarshal(raw, ds); err == nil {
			d.daemonSets = append(d.daemonSets, ds)
			d.daemonSetWhere = append(d.daemonSetWhere, where)
		}
	case "Node":
		n := &corev1.Node{}
		if err = json.Unmarshal(raw, n); err == nil {
			d.objs.Nodes = append(d.objs.Nodes, n)
		}
	case "Pod":
		p := &corev1.Pod{}
		if err = json.Unmarshal(raw, p); err == nil {
			d.objs.Pods = append(d.objs.Pods, p)
		}
	case "ControllerRevision":
		r := &appsv1.ControllerRevision{}
		if err = json.Unmarshal(raw, r); err == nil {
			d.objs.Revisions = append(d.objs.Revisions, r)
		}
	case "RuntimeClass":
		r := &nodev1.RuntimeClass{}
		if err = json.Unmarshal(raw, r); err == nil {
			d.objs.RuntimeClasses = append(d.objs.RuntimeClasses, r)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// objectName returns metadata.name if it is a string, else "".
func objectName(fields map[string]json.RawMessage) string {
	var meta struct {
		Name json.RawMessage `json:"name"`
	}
	if json.Unmarshal(fields["metadata"], &meta) != nil {
		return ""
	}
	var name string
	if json.Unmarshal(meta.Name, &name) != nil {
		return ""
	}
	return name
}

// message is a k8s.io/api object type with its generated protobuf methods.
type message[T any] interface {
	*T
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
	DeepCopy() *T
}

// NormalizeObject returns the protobuf round trip of obj: a new object, as
// kube-controller-manager would receive obj from the API server (explicit
// empty lists and maps become nil). nil gives nil. obj is not mutated.
func NormalizeObject[T any, P message[T]](obj P) (P, error) {
	if obj == nil {
		return nil, nil
	}
	// Marshal may fill caches inside the object (resource.Quantity's
	// string): marshal a copy so that obj stays untouched.
	b, err := P(obj.DeepCopy()).Marshal()
	if err != nil {
		return nil, err
	}
	out := P(new(T))
	if err := out.Unmarshal(b); err != nil {
		return nil, err
	}
	return out, nil
}

// Normalize returns objs with every object replaced by its protobuf round
// trip (see [NormalizeObject]); Warnings are copied. objs is not mutated.
// Errors name the object.
func Normalize(objs Objects) (Objects, error) {
	out := Objects{Warnings: append([]string(nil), objs.Warnings...)}
	var err error
	if out.DaemonSet, err = NormalizeObject(objs.DaemonSet); err != nil {
		return Objects{}, fmt.Errorf("DaemonSet %q: %w", objs.DaemonSet.Name, err)
	}
	if out.DaemonSets, err = normalizeAll(objs.DaemonSets, "DaemonSet"); err != nil {
		return Objects{}, err
	}
	if out.Nodes, err = normalizeAll(objs.Nodes, "Node"); err != nil {
		return Objects{}, err
	}
	if out.Pods, err = normalizeAll(objs.Pods, "Pod"); err != nil {
		return Objects{}, err
	}
	if out.Revisions, err = normalizeAll(objs.Revisions, "ControllerRevision"); err != nil {
		return Objects{}, err
	}
	if out.RuntimeClasses, err = normalizeAll(objs.RuntimeClasses, "RuntimeClass"); err != nil {
		return Objects{}, err
	}
	return out, nil
}

type namedMessage[T any] interface {
	message[T]
	GetName() string
}

func normalizeAll[T any, P namedMessage[T]](in []P, kind string) ([]P, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]P, len(in))
	for i, obj := range in {
		n, err := NormalizeObject[T, P](obj)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", kind, obj.GetName(), err)
		}
		out[i] = n
	}
	return out, nil
}
