package storetest

import (
	"testing"

	"leitai/voting"
)

// testPresentation checks that what a contestant presents (theme,
// presenter), the leader's comment, the event's presentation time and the
// stage's presentation timer are kept, by updates after ballots and the
// end, and across a restart of the backing service.
func testPresentation(t *testing.T, f Factory) {
	s, restart := f(t)
	ev := mustCreate(t, s, newEvent("show", func(ev *voting.Event) {
		ev.PresentationSeconds = 480
		ev.Contestants[0].Theme = "扬优势 补短板 推进各项经济指标争先创优"
		ev.Contestants[0].Presenter = "张三"
		ev.Contestants[1].Theme = "促消费稳外贸 推动商贸经济稳步增长"
		ev.Contestants[2].Comment = "二季度有效投资完成率居全区第一。"
	}))
	checkEvent(t, "Event after CreateEvent", mustEvent(t, s, "show"), ev)

	// A comment recorded while ballots are counted, and another after the
	// end: neither changes how ballots score, so the store takes them.
	openVoting(t, s, "show", "c1")
	castNew(t, s, ballot(t, &ev, "v1", "c1", "audience", 90, baseTime), ev.Revision, false)
	next := cloneEvent(ev)
	next.Contestants[0].Comment = "不讲困难，只找方法。"
	ev, err := s.UpdateEvent(ctx(t), next)
	if err != nil {
		t.Fatalf("UpdateEvent with a comment after ballots: %v", err)
	}
	timer := voting.Timer{Seconds: 2, StartedAt: baseTime - 65_000, Elapsed: 1500}
	stage := setStage(t, s, "show", func(st *voting.Stage) { st.Timer = timer })
	if got := mustStage(t, s, "show"); got.Timer != timer {
		t.Fatalf("stage timer round trip: got %+v, want %+v", got.Timer, timer)
	}
	checkEvent(t, "Event after a comment", mustEvent(t, s, "show"), ev)

	if restart == nil {
		return
	}
	s = restart()
	checkEvent(t, "Event after a restart", mustEvent(t, s, "show"), ev)
	if got := mustStage(t, s, "show"); got != stage {
		t.Fatalf("stage after a restart\n got %+v\nwant %+v", got, stage)
	}
	setStage(t, s, "show", func(st *voting.Stage) { st.Phase, st.Timer = voting.PhaseEnded, voting.Timer{} })
	next = cloneEvent(ev)
	next.Contestants[3].Comment = "为全区任务推进作出了积极的贡献。"
	if ev, err = s.UpdateEvent(ctx(t), next); err != nil {
		t.Fatalf("UpdateEvent with a comment after the end: %v", err)
	}
	s = restart()
	checkEvent(t, "Event after a second restart", mustEvent(t, s, "show"), ev)
}
