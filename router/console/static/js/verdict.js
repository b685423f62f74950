// A comparison's p-value in words, for people who do not read p-values.

export function verdict(test) {
  const p = test?.p_value;
  if (p === null || p === undefined) {
    return { significant: false, text: test?.note || "not enough data yet" };
  }
  const shown = p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`;
  if (p < 0.01) return { significant: true, text: `clearly different (${shown}, ${test.test})` };
  if (p < 0.05) return { significant: true, text: `significant at 5 % (${shown}, ${test.test})` };
  if (p < 0.1) return { significant: false, text: `a hint, not yet significant (${shown})` };
  return { significant: false, text: `not yet significant (${shown})` };
}
