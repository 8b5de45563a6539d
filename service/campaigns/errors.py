"""The error of bad campaign input, shown next to its form field."""


class CampaignInputError(Exception):
    """Bad form input for a campaign; ``errors`` maps field -> Chinese message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
