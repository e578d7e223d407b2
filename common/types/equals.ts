/** True when A and B are the same type (not merely assignable one way), false otherwise. */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Fails the build unless its argument is `true`: `type _ = Assert<Equals<A, B>>`. */
export type Assert<T extends true> = T;
