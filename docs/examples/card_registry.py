"""Connect flask_kapu's e-ID registration to your registry client."""

# registry field -> the name flask_kapu expects
FIELDS = {
    "csaladi_nev": "family_name",
    "utonev": "given_name",
    "szuletesi_datum": "birth_date",  # ISO date, 1980-04-12
    "szuletesi_hely": "birth_place",
    "anyja_neve": "mother_name",
    "lakcim": "address",
}


class RegistryAdapter:
    """flask_kapu's IdentityRegistry protocol over a client of your own."""

    def __init__(self, client):
        self.client = client

    def lookup(self, document_id, registration_code):
        # flask_kapu has already checked and normalised both: "123456AB", "ABCDE12345F".
        record = self.client.find_card(document_id, registration_code)
        if record is None:
            return None  # the user gets "eid_not_recognised"
        return {ours: record[theirs] for theirs, ours in FIELDS.items()}
