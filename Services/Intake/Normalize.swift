public import AccordMessages

/// How intake compares and cleans the text it is given.
public enum Normalize {
    /// Trims whitespace at both ends and collapses runs inside to one space.
    public static func trimmed(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The key two names share when they name the same thing: case-folded, punctuation dropped,
    /// "&" read as "and", spaces collapsed ("Sheriff's  Office" and "SHERIFFS OFFICE" match).
    public static func key(_ text: String) -> String {
        var out = ""
        for character in text.lowercased().replacingAmpersands() {
            if character.isLetter || character.isNumber {
                out.append(character)
            } else if character.isWhitespace || character == "-" || character == "/" {
                if !out.isEmpty && out.last != " " { out.append(" ") }
            }
        }
        return out.hasSuffix(" ") ? String(out.dropLast()) : out
    }

    /// A county name, or nil for the sheets' markers of none (`#N/A`, `N/A`, empty).
    public static func county(_ text: String?) -> String? {
        guard let text else { return nil }
        let trimmed = self.trimmed(text)
        return ["", "#N/A", "N/A", "NA", "NONE", "-"].contains(trimmed.uppercased()) ? nil : trimmed
    }

    /// The model named by a sheet's SUPPORT TYPE or an abbreviation, in any case.
    public static func model(_ text: String) -> Model? {
        switch self.key(text) {
        case "jail enforcement model", "jail enforcement", "jem": .jem
        case "warrant service officer", "warrant service officer model", "warrant service", "wso": .wso
        case "task force model", "task force", "tfm": .tfm
        default: nil
        }
    }

    public static func agencyType(_ text: String) -> AgencyType? {
        switch self.key(text) {
        case "county": .county
        case "municipality", "municipal", "city": .municipality
        case "state agency", "state": .stateAgency
        default: nil
        }
    }
}

extension String {
    fileprivate func replacingAmpersands() -> String {
        self.split(separator: "&", omittingEmptySubsequences: false).joined(separator: " and ")
    }
}
