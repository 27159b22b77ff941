package pretext

import "fmt"

// Factorial returns k!.
func Factorial(k int) int {
	f := 1
	for i := 2; i <= k; i++ {
		f *= i
	}
	return f
}

// Permutation returns the index-th permutation of 0..k-1 in lexicographic
// order (index 0 is the identity), decoding the index in the factorial
// number system.
func Permutation(k, index int) []int {
	if index < 0 || index >= Factorial(k) {
		panic(fmt.Sprintf("pretext: permutation index %d out of range for k=%d", index, k))
	}
	pool := make([]int, k)
	for i := range pool {
		pool[i] = i
	}
	perm := make([]int, 0, k)
	for i := k; i > 0; i-- {
		f := Factorial(i - 1)
		j := index / f
		index %= f
		perm = append(perm, pool[j])
		pool = append(pool[:j], pool[j+1:]...)
	}
	return perm
}

// PermutationIndex is the inverse of Permutation: the lexicographic rank of
// perm among the permutations of 0..len(perm)-1. It returns -1 when perm is
// not a permutation.
func PermutationIndex(perm []int) int {
	k := len(perm)
	used := make([]bool, k)
	index := 0
	for i, p := range perm {
		if p < 0 || p >= k || used[p] {
			return -1
		}
		smaller := 0
		for q := 0; q < p; q++ {
			if !used[q] {
				smaller++
			}
		}
		used[p] = true
		index += smaller * Factorial(k-1-i)
	}
	return index
}
