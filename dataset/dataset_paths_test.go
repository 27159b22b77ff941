package dataset

import (
	"reflect"
	"testing"
)

func TestPathsListsEachVideoOnce(t *testing.T) {
	d := &Dataset{
		Splits: []Split{
			{Train: []Sample{{Path: "a/1.avi"}, {Path: "b/2.avi"}}, Test: []Sample{{Path: "a/3.avi"}}},
			{Train: []Sample{{Path: "a/3.avi"}}, Test: []Sample{{Path: "a/1.avi"}, {Path: "b/2.avi"}}},
		},
		Unlabeled: []Sample{{Path: "u/9.mp4"}, {Path: "a/1.avi"}},
	}
	want := []string{"a/1.avi", "b/2.avi", "a/3.avi", "u/9.mp4"}
	if got := d.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("Paths = %v, want %v", got, want)
	}
}
