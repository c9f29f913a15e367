"""The clearinghouse simulator: a stand-in clearinghouse with simulated payers behind it, speaking X12."""
