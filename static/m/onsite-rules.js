// The one rule for an on-site check (现场核查), as the server applies it when the check
// arrives: the form shows the same verdict before saving, with the thresholds the bootstrap
// carries (onsite_max_distance_m, onsite_max_accuracy_m). A check that is far from the case or
// whose position is not sure enough is saved, but counts as on-site only once a supervisor
// accepts it; a check missing its findings or its photos is incomplete. A point picked on the
// map has no accuracy to judge: with a photo (the evidence someone stood there) it is not
// doubtful, without one it is (services.field.onsite_rules._poor_accuracy). No imports: the
// caller measures the distance, so the rule runs anywhere.

export const MISSING_PHOTO = "须至少拍一张照片，或选择无法拍照的原因";
export const MISSING_FINDINGS = "须选择核查结论";

/**
 * Judge a check: `distance_m` (check position to the case; null when either is unknown),
 * `accuracy_m` (null when unknown), `manual_location` (true for a point picked on the map),
 * `findings` (source_found and violation_found are booleans only when chosen), `photo_count`,
 * `no_photo_reason`.
 * Returns {far_from_case, poor_accuracy, incomplete, missing (Chinese), counts_as_onsite}.
 */
export function assessCheck(check, settings) {
  const farFromCase = check.distance_m !== null && check.distance_m !== undefined
    && check.distance_m > settings.onsite_max_distance_m;
  const poorAccuracy = check.manual_location ? !check.photo_count
    : check.accuracy_m === null || check.accuracy_m === undefined || check.accuracy_m > settings.onsite_max_accuracy_m;
  const findings = check.findings || {};
  const missing = [];
  if (!check.photo_count && !check.no_photo_reason) missing.push(MISSING_PHOTO);
  if (typeof findings.source_found !== "boolean" || typeof findings.violation_found !== "boolean") {
    missing.push(MISSING_FINDINGS);
  }
  return {
    far_from_case: farFromCase, poor_accuracy: poorAccuracy, incomplete: missing.length > 0, missing,
    counts_as_onsite: !farFromCase && !poorAccuracy && missing.length === 0,
  };
}
