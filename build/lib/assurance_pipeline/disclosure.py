"""How few decisions a kept statistic may rest on: a mean, total or value of one or two decisions is their own value."""

MIN_DECISIONS_SHOWN = 5
