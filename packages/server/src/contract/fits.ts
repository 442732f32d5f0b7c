/**
 * Compiles only when `Wire` can be handed to the library as `Domain`: where a parsed body is the library's input,
 * or a wire word is the library's, the two cannot drift apart unnoticed.
 */
export type Fits<Wire extends Domain, Domain> = Wire;
