package voting

// The final reveal (最终排名揭晓) shows the ranking from the last place up,
// one step at a time. A step is a place, not a contestant: contestants
// tied on a place (the same Rank) are revealed together, so that nobody
// reads a shared place as a better or worse one. Contestants without
// ballots have no place (没有选票的参赛单位不排名) and are never revealed.
//
// Stage.Revealed counts the steps taken. These functions are the one rule
// of what the audience (the screen, the phones) may see during the reveal.

// RevealSteps is the number of steps of the reveal of sd: the number of
// places held by ranked contestants (tie groups).
func RevealSteps(sd *Standings) int {
	n, last := 0, 0
	for _, r := range sd.Rows {
		if r.Rank > 0 && r.Rank != last {
			n, last = n+1, r.Rank
		}
	}
	return n
}

// RevealedRows returns the rows of sd that steps reveal steps show: the
// ranked contestants of the last steps places, best first, as they are in
// sd. Steps beyond RevealSteps reveal every ranked contestant; rows without
// a rank are left out.
func RevealedRows(sd *Standings, steps int) []Standing {
	ranked := 0
	for ranked < len(sd.Rows) && sd.Rows[ranked].Rank > 0 {
		ranked++
	}
	from := ranked
	for taken := 0; taken < steps && from > 0; taken++ {
		place := sd.Rows[from-1].Rank
		for from > 0 && sd.Rows[from-1].Rank == place {
			from--
		}
	}
	return append([]Standing{}, sd.Rows[from:ranked]...)
}

// RevealUnderWay reports whether the stage is in the reveal with places of
// sd still hidden.
func RevealUnderWay(st *Stage, sd *Standings) bool {
	return st.Phase == PhaseReveal && st.Revealed < RevealSteps(sd)
}
