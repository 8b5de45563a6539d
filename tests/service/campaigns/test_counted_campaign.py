"""Issue 19: which campaign counts in a county's verdict is one rule (``campaigns.counted.counted_of``),
used for one county (``counted_campaign``) and for the province overview's counties at once
(``verdicts.pipeline.county_states``): the designated campaign, else the only real one; a test
campaign never counts."""

from service.campaigns.counted import counted_of
from service.db.models import Campaign


def campaign(cid: int, is_test: bool = False) -> Campaign:
    return Campaign(id=cid, name=f"调查{cid}", county_name="示例县", is_test=is_test)


def test_the_designated_campaign_counts_even_among_several():
    a, b = campaign(1), campaign(2)
    assert counted_of(1, [b, a]) == counted_of(1, [a]) and counted_of(1, [b, a]).campaign is a
    assert counted_of(1, [b, a]).how == "designated"


def test_the_only_real_campaign_counts_and_test_campaigns_never_do():
    real, trial = campaign(1), campaign(2, is_test=True)
    counted = counted_of(None, [trial, real])
    assert (counted.campaign, counted.how) == (real, "only")
    assert (counted_of(None, [trial]).campaign, counted_of(None, [trial]).how) == (None, "none")


def test_several_real_campaigns_none_designated_means_the_bureau_must_choose():
    counted = counted_of(None, [campaign(1), campaign(2), campaign(3, is_test=True)])
    assert (counted.campaign, counted.how) == (None, "choose")
    assert counted_of(None, []).how == "none"
