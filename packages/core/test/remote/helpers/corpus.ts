/**
 * Hostile values for every field that reaches a remote shell. Each would create `marker` if a shell evaluated it;
 * the unicode ones are look-alikes of quotes, dollars and separators.
 */
export function injectionCorpus(marker: string): string[] {
  return [
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `; touch ${marker}`,
    `x.safetensors; touch ${marker}`,
    `x\ntouch ${marker}`,
    `x\rtouch ${marker}`,
    `' ; touch ${marker} ; '`,
    `" ; touch ${marker} ; "`,
    `'"$(touch ${marker})"'`,
    `\\'; touch ${marker} #`,
    `$(touch\${IFS}${marker})`,
    `&& touch ${marker}`,
    `| touch ${marker}`,
    `> ${marker}`,
    `x.safetensors & touch ${marker} &`,
    `\uff04(touch ${marker})`,
    `\u02bc; touch ${marker}; \u02bc`,
    `\u2018; touch ${marker}; \u2019`,
    `$\u200b(touch ${marker})`,
    `x\u037e touch ${marker}`,
    `x\u2215..\u2215..\u2215${marker}`,
    `%24(touch ${marker})`,
    `-rf`,
    `--help`,
    `*`,
    `~`,
    `\${PATH}`,
    `!!`,
  ];
}
