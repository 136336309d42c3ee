import { printParseErrorCode, visit, type ParseErrorCode } from 'jsonc-parser';

/**
 * JSON.parse that also refuses what JSON.parse lets through: a key repeated in one object (JSON.parse keeps the
 * last one silently; strict parsers and several log stores reject the line), comments and trailing commas.
 * Uses jsonc-parser's visitor (the scanner VS Code uses) to see every property as written.
 */
export function parseStrictJson(text: string): unknown {
  const stack: Array<Set<string>> = [];
  const problems: string[] = [];
  visit(
    text,
    {
      onObjectBegin: () => void stack.push(new Set()),
      onObjectEnd: () => void stack.pop(),
      onObjectProperty: (property, offset) => {
        const seen = stack[stack.length - 1];
        if (!seen) return;
        if (seen.has(property)) problems.push(`duplicate key "${property}" at offset ${offset}`);
        seen.add(property);
      },
      onError: (error: ParseErrorCode, offset: number) => void problems.push(`${printParseErrorCode(error)} at offset ${offset}`),
      onComment: (offset: number) => void problems.push(`comment at offset ${offset}`),
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  if (problems.length) throw new Error(`not strict JSON: ${problems.join('; ')}`);
  return JSON.parse(text);
}
