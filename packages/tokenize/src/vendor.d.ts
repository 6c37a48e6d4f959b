// natural ships types for its index, but importing the index pulls in its storage back ends
// (which print dotenv banners on load); these deep modules have no .d.ts of their own.
declare module 'natural/lib/natural/stemmers/porter_stemmer.js' {
  const PorterStemmer: { stem(token: string): string };
  export default PorterStemmer;
}
declare module 'natural/lib/natural/util/stopwords.js' {
  export const words: string[];
}
